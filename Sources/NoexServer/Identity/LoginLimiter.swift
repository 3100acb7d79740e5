/// Brute-force protection of the login operations (docs/identity.md#login-rate-limiting):
/// failures counted per `user:<name>` and `ip:<address>` key, a window measured from a key's
/// first failure, a lockout that refuses even correct credentials until that window ends.
///
/// Bounded: expired entries are pruned by the server's sweep, and at most `maxKeys` keys are
/// kept (past that, a new key's failures are not counted; the address key still is, since it
/// is recorded first and already exists for an attacker that tries many usernames).
struct LoginLimiter {
    let maxAttempts: Int
    let windowMs: Int64
    static let maxKeys = 100_000
    private var failures: [String: (count: Int, firstAt: Int64)] = [:]

    init(_ config: LoginRateLimitConfig) {
        maxAttempts = max(1, config.maxAttempts)
        windowMs = max(1, config.windowMs)
    }

    /// nil when the key may try; else the ms until its window ends.
    mutating func retryAfter(_ key: String, nowMs: Int64) -> Int64? {
        guard let f = failures[key] else { return nil }
        if nowMs - f.firstAt >= windowMs {
            failures[key] = nil
            return nil
        }
        return f.count >= maxAttempts ? windowMs - (nowMs - f.firstAt) : nil
    }

    mutating func recordFailure(_ key: String, nowMs: Int64) {
        if let f = failures[key], nowMs - f.firstAt < windowMs {
            failures[key] = (f.count + 1, f.firstAt)
        } else if failures[key] != nil || failures.count < Self.maxKeys {
            failures[key] = (1, nowMs)
        }
    }

    mutating func reset(_ key: String) { failures[key] = nil }

    mutating func prune(nowMs: Int64) {
        failures = failures.filter { nowMs - $0.value.firstAt < windowMs }
    }

    var count: Int { failures.count }
}
