/// External ("legacy") authentication: the host decides what a token means.
///
/// The hook runs on the server's loop, synchronously, once per `auth.login`. Returning `nil`
/// answers `UNAUTHORIZED "Invalid token"`; throwing answers `INTERNAL_ERROR "Internal server error"`.
public struct AuthConfig {
    public var validate: (String) throws -> AuthSession?
    /// `false` lets unauthenticated clients use every operation without tier/permission checks.
    public var required: Bool
    public var permissions: PermissionConfig?

    public init(required: Bool = true, permissions: PermissionConfig? = nil,
                validate: @escaping (String) throws -> AuthSession?) {
        self.validate = validate
        self.required = required
        self.permissions = permissions
    }

    /// A fixed token table, as the binary's config file declares it (`auth.tokens`).
    public static func staticTokens(_ table: [String: AuthSession], required: Bool = true,
                                    permissions: PermissionConfig? = nil) -> AuthConfig {
        AuthConfig(required: required, permissions: permissions) { token in table[token] }
    }
}
