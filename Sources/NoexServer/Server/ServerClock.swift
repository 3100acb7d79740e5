import CUV

/// The two clocks the protocol reads: wall time (welcome, ping, expiry, record timestamps, the
/// registry) and the loop's monotonic time (rate-limit windows). Injected so tests control both.
public struct ServerClock {
    public var wallMs: () -> Int64
    public var monotonicMs: () -> Int64

    public init(wallMs: @escaping () -> Int64, monotonicMs: @escaping () -> Int64) {
        self.wallMs = wallMs
        self.monotonicMs = monotonicMs
    }

    /// Milliseconds since the Unix epoch, from libuv (no Foundation needed).
    public static func systemWallMs() -> Int64 {
        var tv = uv_timeval64_t()
        guard uv_gettimeofday(&tv) == 0 else { return 0 }
        return tv.tv_sec * 1000 + Int64(tv.tv_usec / 1000)
    }
}
