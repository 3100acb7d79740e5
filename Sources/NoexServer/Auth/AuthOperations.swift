import NoexJSON

/// `auth.login`, `auth.logout`, `auth.whoami` (docs/protocol/auth.md) over one connection's session.
public struct AuthOperations {
    public let auth: AuthConfig?

    public init(auth: AuthConfig?) { self.auth = auth }

    public func handle(_ request: Request, session: inout AuthSession?, blacklist: SessionBlacklist,
                       nowMs: Int64) throws(ServerError) -> JSON {
        guard let auth else { throw .authNotConfigured }
        switch request.type {
        case "auth.login":
            let token = try request.nonEmptyString("token")
            let found: AuthSession?
            do { found = try auth.validate(token) } catch { throw .internalServerError }
            guard let found else { throw .invalidToken }
            if found.isExpired(nowMs: nowMs) { throw .tokenExpired }
            if blacklist.isRevoked(found.userId, nowMs: nowMs) {
                session = nil
                throw .sessionRevoked
            }
            session = found
            return ["userId": .string(found.userId), "roles": found.rolesJSON, "expiresAt": found.expiresAtJSON]
        case "auth.logout":
            session = nil
            return ["loggedOut": true]
        case "auth.whoami":
            if let s = session, s.isExpired(nowMs: nowMs) { session = nil }
            guard let s = session else { return ["authenticated": false] }
            return ["authenticated": true, "userId": .string(s.userId), "roles": s.rolesJSON, "expiresAt": s.expiresAtJSON]
        default:
            throw .unknownOperation(request.type, in: "auth")
        }
    }
}
