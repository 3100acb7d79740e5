/// Built-in identity (docs/identity.md): users, roles, ACL and sessions kept in the server's own
/// system buckets, a virtual superadmin behind `adminSecret`.
public struct BuiltInAuthConfig: Sendable, Equatable {
    /// `identity.loginWithSecret` compares against this; never empty.
    public var adminSecret: String
    /// Lifetime of a session token, ms (default 24 h).
    public var sessionTtlMs: Int64 = 86_400_000
    /// Brute-force protection of the login operations (always on).
    public var loginRateLimit = LoginRateLimitConfig()
    /// Stored sessions one user may hold; a login past it deletes the user's oldest sessions
    /// (nil: no cap, the original's behaviour).
    public var maxSessionsPerUser: Int?

    public init(adminSecret: String, sessionTtlMs: Int64 = 86_400_000, loginRateLimit: LoginRateLimitConfig = LoginRateLimitConfig()) {
        self.adminSecret = adminSecret
        self.sessionTtlMs = sessionTtlMs
        self.loginRateLimit = loginRateLimit
    }
}

/// `loginRateLimit: {maxAttempts, windowMs}`: failures per username and per address.
public struct LoginRateLimitConfig: Sendable, Equatable {
    public var maxAttempts: Int = 5
    public var windowMs: Int64 = 900_000
    public init(maxAttempts: Int = 5, windowMs: Int64 = 900_000) {
        self.maxAttempts = maxAttempts
        self.windowMs = windowMs
    }
}
