/// A small, fast pseudo-random generator (SplitMix64) for masking keys and handshake nonces.
///
/// RFC 6455 §5.3 asks for unpredictable masking keys so that a browser's script cannot steer
/// the bytes an intermediary sees; a load generator only needs a fresh key per frame that a
/// server cannot assume constant, so a per-connection seeded SplitMix64 is enough and cheap.
public struct FastRandom {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A masking key; never zero, so a frame is never sent effectively unmasked.
    public mutating func nextMaskKey() -> UInt32 {
        while true {
            let key = UInt32(truncatingIfNeeded: next())
            if key != 0 { return key }
        }
    }
}
