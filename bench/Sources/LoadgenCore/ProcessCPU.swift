/// CPU time of a process as Linux reports it in `/proc/<pid>/stat`.
public enum ProcessCPU {
    /// utime + stime (fields 14 and 15, in clock ticks) from the text of `/proc/<pid>/stat`.
    /// The command name (field 2) is parenthesised and may hold spaces or parentheses, so
    /// fields are counted from the last ')'.
    public static func ticks(statLine: String) -> UInt64? {
        guard let close = statLine.lastIndex(of: ")") else { return nil }
        let fields = statLine[statLine.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), so utime (14) is fields[11] and stime (15) fields[12].
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return user + system
    }
}
