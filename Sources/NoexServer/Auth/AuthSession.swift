import NoexJSON

/// Who a connection is after `auth.login`: what the validate hook returned for its token.
public struct AuthSession: Sendable, Equatable {
    public var userId: String
    public var roles: [String]
    /// Stored, never used or returned (as in the original).
    public var metadata: JSON?
    /// Milliseconds since the Unix epoch; `nil` means the session never expires.
    public var expiresAt: Int64?

    public init(userId: String, roles: [String], metadata: JSON? = nil, expiresAt: Int64? = nil) {
        self.userId = userId
        self.roles = roles
        self.metadata = metadata
        self.expiresAt = expiresAt
    }

    /// Expired strictly before `nowMs` (a session expiring exactly now is still valid).
    func isExpired(nowMs: Int64) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt < nowMs
    }

    var expiresAtJSON: JSON { expiresAt.map { .int($0) } ?? .null }
    var rolesJSON: JSON { .array(roles.map { .string($0) }) }
}
