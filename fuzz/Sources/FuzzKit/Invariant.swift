#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Fails the current fuzz input: prints what broke and aborts, which libFuzzer reports as a
/// crash and saves the input as `crash-<sha1>`. Used instead of `precondition` so the message
/// survives release builds.
public func invariant(_ condition: Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    guard !condition else { return }
    let text = "fuzz invariant broken at \(file):\(line): \(message())\n"
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    abort()
}

/// The bytes libFuzzer hands to `LLVMFuzzerTestOneInput` (`data` is null for an empty input).
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Splits `count` bytes into chunk lengths chosen by a seed, so one input also tests one
/// arbitrary way the network could have cut it. Every chunk is at least one byte.
public func chunkLengths(count: Int, seed: UInt64) -> [Int] {
    var state = seed | 1
    var lengths: [Int] = []
    var left = count
    while left > 0 {
        // xorshift64: cheap and deterministic for a given input.
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        let n = min(left, 1 + Int(state % 17))
        lengths.append(n)
        left -= n
    }
    return lengths
}
