/// User ids revoked by the host (`revokeSession`), consulted by `auth.login` until their TTL passes.
public struct SessionBlacklist: Sendable {
    public let ttlMs: Int64
    private var expiries: [String: Int64] = [:]

    /// `ttlMs` is capped at the config file's ceiling, so `now + ttl` cannot overflow.
    public init(ttlMs: Int64) { self.ttlMs = min(ttlMs, ConfigBounds.durationMs) }

    public mutating func revoke(_ userId: String, nowMs: Int64) { expiries[userId] = nowMs + ttlMs }

    public func isRevoked(_ userId: String, nowMs: Int64) -> Bool {
        guard let until = expiries[userId] else { return false }
        return until > nowMs
    }

    /// Forgets expired entries; called by the loop's sweep timer.
    public mutating func prune(nowMs: Int64) { expiries = expiries.filter { $0.value > nowMs } }
}
