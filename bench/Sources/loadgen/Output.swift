import LoadgenCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Prints a figure line and flushes at once, so a script reading the pipe sees it immediately
/// (idle mode's `idle.connected` line is the caller's cue to measure the server).
func printLine(_ line: String) {
    print(line)
    fflush(nil)
}

/// Writes to standard error directly (fd 2), unbuffered.
func printError(_ line: String) {
    writeStandardError("loadgen: \(line)\n")
}

func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if n <= 0 { return }
        bytes = bytes.dropFirst(n)
    }
}

/// Raises the soft open-file limit to the hard limit: thousands of connections need it.
func raiseOpenFileLimit() {
    var limit = rlimit()
    #if canImport(Glibc)
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    let resource = RLIMIT_NOFILE
    #endif
    guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(resource, &limit)
}

/// A peer closing its socket must surface as a write error, not kill the process.
func ignoreSigpipe() {
    signal(SIGPIPE, SIG_IGN)
}

#if canImport(Glibc)
private let RUSAGE_SELF_WHO = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
private let RUSAGE_SELF_WHO = RUSAGE_SELF
#endif

/// This process's CPU time (user + system) in nanoseconds.
func ownCPUNanoseconds() -> UInt64 {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF_WHO, &usage) == 0 else { return 0 }
    func ns(_ t: timeval) -> UInt64 { UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_usec) * 1000 }
    return ns(usage.ru_utime) + ns(usage.ru_stime)
}

/// Another process's CPU time in nanoseconds, from `/proc/<pid>/stat` (nil if unreadable).
func processCPUNanoseconds(pid: Int) -> UInt64? {
    let fd = open("/proc/\(pid)/stat", O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 4096)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard n > 0 else { return nil }
    let tick = sysconf(Int32(_SC_CLK_TCK))
    guard tick > 0, let ticks = ProcessCPU.ticks(statLine: String(decoding: buffer[..<n], as: UTF8.self)) else { return nil }
    return ticks * 1_000_000_000 / UInt64(tick)
}
