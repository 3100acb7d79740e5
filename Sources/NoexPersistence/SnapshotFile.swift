import NoexJSON
#if canImport(Glibc)
import Glibc
#endif

/// Whole-file I/O of the `file` engine. A file only ever appears under its final name complete:
/// it is written to a temp file in the same directory, fsynced, and renamed over the old one;
/// the directory's fsync (`syncDirectory`) then makes the rename itself durable.
enum SnapshotFile {
    /// Snapshot files hold whole buckets: no size limit beyond memory; the depth limit stays.
    static let limits = JSONLimits(maxDepth: 520, maxBytes: Int.max)

    static func reason(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    /// The file's JSON; nil when it does not exist. Errors name the file.
    static func read(_ path: String) throws(PersistenceError) -> JSON? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw PersistenceError("cannot read \"\(path)\": \(reason())")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var st = stat()
        if fstat(fd, &st) == 0 { bytes.reserveCapacity(Int(st.st_size)) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw PersistenceError("cannot read \"\(path)\": \(reason())")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        do { return try JSON.parse(bytes, limits: limits) } catch {
            throw PersistenceError("\"\(path)\" is not a valid snapshot file (\(error)): restore it from a backup or remove it")
        }
    }

    /// Writes `bytes` to `dir/name` through `dir/.name.tmp`; the temp file is removed when
    /// anything fails, and the old file is untouched then.
    static func write(_ bytes: [UInt8], dir: String, name: String, fsync sync: Bool) throws(PersistenceError) {
        let path = dir + "/" + name
        let temp = dir + "/." + name + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PersistenceError("cannot write \"\(temp)\": \(reason())") }
        var failure: Int32?
        bytes.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                off += n
            }
        }
        if failure == nil, sync, fsync(fd) != 0 { failure = errno }
        if close(fd) != 0, failure == nil { failure = errno }
        if failure == nil, rename(temp, path) != 0 { failure = errno }
        if let failure {
            unlink(temp)
            throw PersistenceError("cannot write \"\(path)\": \(reason(failure))")
        }
    }

    /// Makes the renames in `dir` durable.
    static func syncDirectory(_ dir: String) throws(PersistenceError) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw PersistenceError("cannot open directory \"\(dir)\": \(reason())") }
        defer { close(fd) }
        if fsync(fd) != 0 { throw PersistenceError("fsync failed on directory \"\(dir)\": \(reason())") }
    }

    /// Creates the directory if missing and proves it writable by creating a file in it (root
    /// passes permission checks, so only a real write tells, e.g. on a read-only mount).
    static func prepareDirectory(_ dir: String) throws(PersistenceError) {
        if mkdir(dir, 0o755) != 0 && errno != EEXIST {
            throw PersistenceError("cannot create data directory \"\(dir)\": \(reason())")
        }
        var st = stat()
        guard stat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw PersistenceError("data directory \"\(dir)\" is not a directory")
        }
        let probe = dir + "/.write-test.tmp"
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PersistenceError("data directory \"\(dir)\" is not writable: \(reason())") }
        close(fd)
        unlink(probe)
    }

    /// Names of the entries of `dir` (for removing leftovers of an interrupted write).
    static func entries(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
