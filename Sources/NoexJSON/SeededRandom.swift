/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators"): a
/// small, fast, seedable generator. The one copy every module and test target uses: the store's
/// seeded random source in tests and benchmarks, the rule engine's event ids, the cluster's
/// per-command generator seeding, and the randomized tests (a failure names its seed).
/// Not for secrets.
///
/// It lives in NoexJSON because that is the one module every other module and test target
/// already depends on.
@frozen
public struct SeededRandom: RandomNumberGenerator, Sendable {
    @usableFromInline var state: UInt64

    @inlinable public init(seed: UInt64) { state = seed }

    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
