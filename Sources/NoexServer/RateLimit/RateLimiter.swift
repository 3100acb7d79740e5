/// The request rate limiter of docs/protocol/envelope.md#the-pipeline: a sliding-window log per key.
///
/// Pure and clock-free: the caller passes `nowMs` (the loop's clock). Only accepted requests are
/// recorded. `prune` is run by the loop's sweep timer so idle keys do not accumulate.
public struct RateLimiter: Sendable {
    public enum Decision: Equatable, Sendable {
        case allowed
        case limited(retryAfterMs: Int64)
    }

    public let maxRequests: Int
    public let windowMs: Int64
    private var logs: [String: [Int64]] = [:]

    public init(maxRequests: Int, windowMs: Int64) {
        self.maxRequests = maxRequests
        self.windowMs = min(windowMs, ConfigBounds.durationMs)  // the config file's ceiling: no overflow
    }

    /// Number of keys currently holding timestamps (for tests and stats).
    public var trackedKeys: Int { logs.count }

    /// Accepts and records the request iff fewer than `maxRequests` were accepted in
    /// `(nowMs − windowMs, nowMs]`.
    public mutating func consume(key: String, nowMs: Int64) -> Decision {
        var log = logs.removeValue(forKey: key) ?? []
        let cutoff = nowMs - windowMs
        if let firstLive = log.firstIndex(where: { $0 > cutoff }) {
            log.removeFirst(firstLive)
        } else {
            log.removeAll()
        }
        defer { if !log.isEmpty { logs[key] = log } }
        if log.count + 1 <= maxRequests {
            log.append(nowMs)
            return .allowed
        }
        let oldest = log.first ?? nowMs
        return .limited(retryAfterMs: max(0, oldest + windowMs - nowMs))
    }

    /// Drops timestamps that left the window and keys with nothing left.
    public mutating func prune(nowMs: Int64) {
        let cutoff = nowMs - windowMs
        for key in Array(logs.keys) {
            let live = logs[key]!.filter { $0 > cutoff }
            logs[key] = live.isEmpty ? nil : live
        }
    }
}
