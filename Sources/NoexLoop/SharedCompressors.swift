// Loop-wide compressors for messages compressed on their own (no context takeover).
#if canImport(Glibc)
    import Glibc
#endif

/// One compressor per window size (a client may ask for a smaller window), shared by every
/// connection that does not take the server's context over, and by pushes on every connection.
/// Each remembers its last message, so a payload sent unchanged to many connections (a rules
/// event fanned out to its subscribers) is compressed once.
public final class SharedCompressors {
    private struct Entry {
        let deflater: ZlibDeflater
        var lastInput: [UInt8] = []
        var lastOutput: [UInt8] = []
        var hasLast = false
    }

    public let config: PerMessageDeflateConfig
    private var byWindow: [Int: Entry] = [:]
    /// Messages compressed and cache hits, for the benchmarks.
    public private(set) var compressions = 0
    public private(set) var reuses = 0

    public init(config: PerMessageDeflateConfig) {
        self.config = config
    }

    /// The compressed payload, or nil when zlib could not allocate its state.
    public func compress(_ payload: UnsafeRawBufferPointer, windowBits: Int) -> [UInt8]? {
        if let entry = byWindow[windowBits], entry.hasLast,
           entry.lastInput.withUnsafeBytes({ $0.count == payload.count && ($0.count == 0 || memcmp($0.baseAddress!, payload.baseAddress!, $0.count) == 0) }) {
            reuses += 1
            return entry.lastOutput
        }
        if byWindow[windowBits] == nil {
            guard let deflater = ZlibDeflater(windowBits: windowBits, memLevel: config.memLevel, level: config.level,
                                              noContextTakeover: true) else { return nil }
            byWindow[windowBits] = Entry(deflater: deflater)
        }
        let output = byWindow[windowBits]!.deflater.compress(payload)
        byWindow[windowBits]!.lastInput = Array(payload)
        byWindow[windowBits]!.lastOutput = output
        byWindow[windowBits]!.hasLast = true
        compressions += 1
        return output
    }
}
