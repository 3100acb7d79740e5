/// The per-request auth check of docs/protocol/auth.md for the "no auth" and external-auth modes.
///
/// Pure: the connection's session and the clock come in, a verdict goes out. An expired session
/// is cleared from `session` as a side effect, as the original does.
public struct AuthGate {
    public let auth: AuthConfig?

    public init(auth: AuthConfig?) { self.auth = auth }

    /// Whether the welcome announces `requiresAuth: true`.
    public var requiresAuth: Bool { auth?.required ?? false }

    public func check(_ request: Request, session: inout AuthSession?, nowMs: Int64) -> ServerError? {
        // Without auth every request passes: answer before comparing the type (hot path).
        guard let auth else { return nil }
        let type = request.type
        if type.hasPrefix("auth.") || type == "ping" { return nil }
        if type == "identity.login" || type == "identity.loginWithSecret" { return nil }
        if auth.required && session == nil { return .authenticationRequired }
        guard let current = session else { return nil }
        if current.isExpired(nowMs: nowMs) {
            session = nil
            return .sessionExpired
        }
        if let tier = OperationTier.of(type), !OperationTier.hasAccess(roles: current.roles, to: tier) {
            return .roleLevelInsufficient(type, tier)
        }
        if let permissions = auth.permissions {
            let resource = ResourceExtractor.resource(of: request)
            if !permissions.allows(current, operation: type, resource: resource) {
                return .noPermission(type, resource)
            }
        }
        return nil
    }
}
