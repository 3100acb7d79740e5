/// The config file's built-in identity (docs/config.md#config-file-keys, docs/identity.md):
/// `"auth": true` or `"auth": {"builtIn": true, "adminSecret", "sessionTtl", "loginRateLimit": {…}}`.
public struct FileBuiltInAuth: Sendable, Equatable {
    public var adminSecret: String?
    public var sessionTtlMs: Int64?
    public var loginRateLimit: LoginRateLimitConfig?
    public var maxSessionsPerUser: Int?

    public init() {}

    /// Longest accepted admin secret (bytes).
    static let maxSecretBytes = 1024

    static func checkSecret(_ secret: String, key: String) throws(ConfigError) {
        guard !secret.isEmpty, secret.utf8.count <= maxSecretBytes else {
            throw ConfigError(key: key, "expected a non-empty string of at most \(maxSecretBytes) bytes")
        }
    }

    /// nil unless the file turns built-in identity on.
    static func decode(_ r: ConfigReader) throws(ConfigError) -> FileBuiltInAuth? {
        guard let v = r.value("auth") else { return nil }
        if case .bool(let on) = v { return on ? FileBuiltInAuth() : nil }
        guard let a = try r.object("auth"), try a.bool("builtIn") == true else { return nil }
        // passwordMinLength is accepted and ignored, as in the original (passwords need 8 characters).
        try a.rejectUnknownKeys(["builtIn", "adminSecret", "sessionTtl", "loginRateLimit", "passwordMinLength", "maxSessionsPerUser"])
        var out = FileBuiltInAuth()
        out.adminSecret = try a.string("adminSecret")
        if let s = out.adminSecret { try checkSecret(s, key: "auth.adminSecret") }
        out.sessionTtlMs = try a.positiveInteger("sessionTtl", max: ConfigBounds.durationMs)
        _ = try a.positiveInteger("passwordMinLength", max: ConfigBounds.count)
        if let m = try a.positiveInteger("maxSessionsPerUser", max: ConfigBounds.count) { out.maxSessionsPerUser = Int(m) }
        if let l = try a.object("loginRateLimit") {
            try l.rejectUnknownKeys(["maxAttempts", "windowMs"])
            var limit = LoginRateLimitConfig()
            if let m = try l.positiveInteger("maxAttempts", max: ConfigBounds.count) { limit.maxAttempts = Int(m) }
            if let w = try l.positiveInteger("windowMs", max: ConfigBounds.durationMs) { limit.windowMs = w }
            out.loginRateLimit = limit
        }
        return out
    }
}
