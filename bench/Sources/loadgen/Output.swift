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
