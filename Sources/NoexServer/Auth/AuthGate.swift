/// The per-request auth check of docs/protocol/auth.md for the "no auth" and external-auth modes.
///
/// Pure: the connection's session and the clock come in, a verdict goes out. An expired session
/// is cleared from `session` as a side effect, as the original does.
public struct AuthGate {
    public let auth: AuthConfig?
    /// Built-in identity: data operations are decided by its `isAllowed` (live roles, ACL,
    /// ownership) instead of tiers and permission rules; `identity.*` authorise themselves.
    let identity: IdentityManager?

    public init(auth: AuthConfig?) {
        self.auth = auth
        identity = nil
    }

    init(auth: AuthConfig, identity: IdentityManager) {
        self.auth = auth
        self.identity = identity
    }

    /// Whether the welcome announces `requiresAuth: true`.
    public var requiresAuth: Bool { auth?.required ?? false }

    /// `queryBuckets` names the buckets a store query reads (nil when unknown), so that
    /// `store.subscribe` is also checked against the data behind the query.
    public func check(_ request: Request, session: inout AuthSession?, nowMs: Int64,
                      queryBuckets: (String) -> [String]? = { _ in nil }) -> ServerError? {
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
        if identity != nil, type.hasPrefix("identity.") { return nil }
        if let denied = authorize(type, AccessResource.of(request), current, auth) { return denied }
        switch type {
        case "store.transaction":
            // Each operation as if it were sent alone: `get` needs read on its bucket, `update` write.
            for (op, bucket) in TransactionAccess.operations(of: request) {
                if let denied = authorize(op, .name(bucket), current, auth) { return denied }
            }
        case "store.subscribe":
            guard let query = request["query"]?.stringValue, let buckets = queryBuckets(query) else { break }
            for bucket in buckets {
                if let denied = authorize(type, .name(bucket), current, auth) { return denied }
            }
        default: break
        }
        return nil
    }

    /// The tier check, then the permission rules, for one operation on one resource.
    func authorize(_ type: String, _ resource: AccessResource, _ session: AuthSession, _ auth: AuthConfig) -> ServerError? {
        if let identity {
            let allowed = identity.cache.isAllowed(userId: session.userId, operation: type, resource: resource)
            return allowed ? nil : .noAccess(type, resource.text)
        }
        if let tier = OperationTier.of(type), !OperationTier.hasAccess(roles: session.roles, to: tier) {
            return .roleLevelInsufficient(type, tier)
        }
        if let permissions = auth.permissions, !permissions.allows(session, operation: type, resource: resource) {
            return .noPermission(type, resource.text)
        }
        return nil
    }
}
