import NoexJSON
import Testing
@testable import NoexServer

/// Fixture A of the original's scenario list (docs/protocol/auth.md).
func fixtureAuth(required: Bool = true, permissions: PermissionConfig? = nil,
                 expiresAt: Int64? = nil) -> AuthConfig {
    AuthConfig(required: required, permissions: permissions) { token in
        switch token {
        case "admin": AuthSession(userId: "admin-1", roles: ["admin"], expiresAt: expiresAt)
        case "writer": AuthSession(userId: "writer-1", roles: ["writer"], expiresAt: expiresAt)
        case "reader": AuthSession(userId: "reader-1", roles: ["reader"], expiresAt: expiresAt)
        case "custom": AuthSession(userId: "custom-1", roles: ["user"], expiresAt: expiresAt)
        case "boom": throw ServerError(.internalError, "hook failed")
        default: nil
        }
    }
}

private func req(_ type: String, _ fields: JSONObject = [:]) -> Request {
    var f = fields
    f["id"] = 1
    f["type"] = .string(type)
    return Request(id: 1, type: type, fields: f)
}

@Suite struct AuthGateTests {
    @Test func noAuthMeansNoChecks() {
        let gate = AuthGate(auth: nil)
        var s: AuthSession? = nil
        #expect(gate.check(req("server.stats"), session: &s, nowMs: 0) == nil)
        #expect(!gate.requiresAuth)
    }

    @Test func requiredAuthRejectsAnonymousButExemptsAuthAndPing() {
        let gate = AuthGate(auth: fixtureAuth())
        var s: AuthSession? = nil
        #expect(gate.requiresAuth)
        #expect(gate.check(req("store.all", ["bucket": "users"]), session: &s, nowMs: 0) == ServerError(.unauthorized, "Authentication required"))
        #expect(gate.check(req("auth.login"), session: &s, nowMs: 0) == nil)
        #expect(gate.check(req("ping"), session: &s, nowMs: 0) == nil)
        #expect(gate.check(req("identity.login"), session: &s, nowMs: 0) == nil)
    }

    @Test func optionalAuthLetsAnonymousThroughButChecksSessions() {
        let gate = AuthGate(auth: fixtureAuth(required: false))
        #expect(!gate.requiresAuth)
        var anon: AuthSession? = nil
        #expect(gate.check(req("store.insert", ["bucket": "users"]), session: &anon, nowMs: 0) == nil)
        var reader: AuthSession? = AuthSession(userId: "r", roles: ["reader"])
        #expect(gate.check(req("store.insert", ["bucket": "users"]), session: &reader, nowMs: 0)?.code == .forbidden)
    }

    @Test func expiredSessionIsClearedAndReported() {
        let gate = AuthGate(auth: fixtureAuth())
        var s: AuthSession? = AuthSession(userId: "u", roles: ["admin"], expiresAt: 1000)
        #expect(gate.check(req("store.all", ["bucket": "b"]), session: &s, nowMs: 1000) == nil)
        #expect(gate.check(req("store.all", ["bucket": "b"]), session: &s, nowMs: 1001) == ServerError(.unauthorized, "Session expired"))
        #expect(s == nil)
        #expect(gate.check(req("store.all", ["bucket": "b"]), session: &s, nowMs: 1002) == ServerError(.unauthorized, "Authentication required"))
    }

    @Test func tiersFollowTheRoleHierarchy() {
        let gate = AuthGate(auth: fixtureAuth())
        var writer: AuthSession? = AuthSession(userId: "writer-1", roles: ["writer"])
        #expect(gate.check(req("server.stats"), session: &writer, nowMs: 0) == ServerError(.forbidden, "Role level insufficient for server.stats (requires admin)"))
        #expect(gate.check(req("store.insert", ["bucket": "users"]), session: &writer, nowMs: 0) == nil)
        var reader: AuthSession? = AuthSession(userId: "reader-1", roles: ["reader"])
        #expect(gate.check(req("store.insert", ["bucket": "users"]), session: &reader, nowMs: 0)?.message == "Role level insufficient for store.insert (requires write)")
        #expect(gate.check(req("procedures.get"), session: &reader, nowMs: 0) == nil)
        #expect(gate.check(req("procedures.call"), session: &reader, nowMs: 0)?.code == .forbidden)
        var custom: AuthSession? = AuthSession(userId: "custom-1", roles: ["user"])
        #expect(gate.check(req("server.stats"), session: &custom, nowMs: 0) == nil)
        // identity.* names are admin-tier even though identity is not configured.
        #expect(gate.check(req("identity.createUser"), session: &reader, nowMs: 0)?.code == .forbidden)
        #expect(gate.check(req("totally.unknown"), session: &reader, nowMs: 0) == nil)
    }

    @Test func permissionCheckCallbackOverridesAndFallsThrough() {
        let perms = PermissionConfig(default: .deny, rules: [PermissionRule(role: "writer", allow: ["store.*"])]) { _, op, _ in
            op == "store.clear" ? false : (op == "rules.emit" ? true : nil)
        }
        let gate = AuthGate(auth: fixtureAuth(permissions: perms))
        var writer: AuthSession? = AuthSession(userId: "writer-1", roles: ["writer"])
        #expect(gate.check(req("store.clear", ["bucket": "users"]), session: &writer, nowMs: 0) == ServerError(.forbidden, "No permission for store.clear on users"))
        #expect(gate.check(req("store.insert", ["bucket": "users"]), session: &writer, nowMs: 0) == nil)
        #expect(gate.check(req("rules.emit", ["topic": "a"]), session: &writer, nowMs: 0) == nil)
        #expect(gate.check(req("rules.setFact", ["key": "k"]), session: &writer, nowMs: 0) == ServerError(.forbidden, "No permission for rules.setFact on k"))
    }

    @Test func declarativeRulesT30() {
        let perms = PermissionConfig(default: .deny, rules: [
            PermissionRule(role: "admin", allow: ["*"]),
            PermissionRule(role: "editor", allow: ["store.insert", "store.get", "store.all"], buckets: ["users"]),
        ])
        let gate = AuthGate(auth: fixtureAuth(permissions: perms))
        var s: AuthSession? = AuthSession(userId: "e", roles: ["writer", "editor"])
        #expect(gate.check(req("store.insert", ["bucket": "users"]), session: &s, nowMs: 0) == nil)
        #expect(gate.check(req("store.insert", ["bucket": "products"]), session: &s, nowMs: 0) == ServerError(.forbidden, "No permission for store.insert on products"))
        #expect(gate.check(req("store.delete", ["bucket": "users"]), session: &s, nowMs: 0)?.code == .forbidden)
        // The tier check runs first.
        let open = AuthGate(auth: fixtureAuth(permissions: PermissionConfig(rules: [PermissionRule(role: "viewer", allow: ["*"])])))
        var viewer: AuthSession? = AuthSession(userId: "v", roles: ["reader", "viewer"])
        #expect(open.check(req("store.insert", ["bucket": "users"]), session: &viewer, nowMs: 0)?.message.contains("requires write") == true)
    }

    @Test func topicConstraintsUseWildcards() {
        let rule = PermissionRule(role: "r", allow: ["rules.*"], topics: ["order.*"])
        let s = AuthSession(userId: "u", roles: ["r"])
        #expect(rule.matches(s, operation: "rules.emit", resource: "order.created"))
        #expect(!rule.matches(s, operation: "rules.emit", resource: "payment.done"))
        #expect(!rule.matches(s, operation: "store.all", resource: "x"))
    }

    @Test func resourcesAreExtractedPerOperation() {
        #expect(ResourceExtractor.resource(of: req("store.subscribe", ["query": "q"])) == "q")
        #expect(ResourceExtractor.resource(of: req("store.unsubscribe", ["subscriptionId": "sub-1"])) == "sub-1")
        #expect(ResourceExtractor.resource(of: req("store.defineBucket", ["name": "posts"])) == "posts")
        #expect(ResourceExtractor.resource(of: req("store.transaction", ["operations": []])) == "*")
        #expect(ResourceExtractor.resource(of: req("rules.setFact", ["key": "k", "pattern": "p"])) == "k")
        #expect(ResourceExtractor.resource(of: req("procedures.call", ["name": "n"])) == "*")
    }
}

@Suite struct AuthOperationsTests {
    @Test func loginWhoamiLogout() throws {
        let ops = AuthOperations(auth: fixtureAuth())
        let bl = SessionBlacklist(ttlMs: 1000)
        var s: AuthSession? = nil
        #expect(try ops.handle(req("auth.whoami"), session: &s, blacklist: bl, nowMs: 0) == ["authenticated": false])
        #expect(throws: ServerError(.validationError, "Missing or invalid \"token\": expected non-empty string")) {
            try ops.handle(req("auth.login"), session: &s, blacklist: bl, nowMs: 0)
        }
        #expect(throws: ServerError(.unauthorized, "Invalid token")) {
            try ops.handle(req("auth.login", ["token": "bogus"]), session: &s, blacklist: bl, nowMs: 0)
        }
        #expect(throws: ServerError(.internalError, "Internal server error")) {
            try ops.handle(req("auth.login", ["token": "boom"]), session: &s, blacklist: bl, nowMs: 0)
        }
        let login = try ops.handle(req("auth.login", ["token": "writer"]), session: &s, blacklist: bl, nowMs: 0)
        #expect(login == ["userId": "writer-1", "roles": ["writer"], "expiresAt": .null])
        #expect(login.objectValue?.keys == ["userId", "roles", "expiresAt"])
        #expect(try ops.handle(req("auth.whoami"), session: &s, blacklist: bl, nowMs: 0)
                == ["authenticated": true, "userId": "writer-1", "roles": ["writer"], "expiresAt": .null])
        _ = try ops.handle(req("auth.login", ["token": "admin"]), session: &s, blacklist: bl, nowMs: 0)
        #expect(s?.userId == "admin-1")
        #expect(try ops.handle(req("auth.logout"), session: &s, blacklist: bl, nowMs: 0) == ["loggedOut": true])
        #expect(s == nil)
        #expect(throws: ServerError(.unknownOperation, "Unknown auth operation \"auth.nope\"")) {
            try ops.handle(req("auth.nope"), session: &s, blacklist: bl, nowMs: 0)
        }
    }

    @Test func expiredTokensAndRevokedUsersAreRefused() throws {
        var s: AuthSession? = AuthSession(userId: "old", roles: [])
        let expired = AuthOperations(auth: fixtureAuth(expiresAt: 500))
        #expect(throws: ServerError(.unauthorized, "Token has expired")) {
            try expired.handle(req("auth.login", ["token": "writer"]), session: &s, blacklist: SessionBlacklist(ttlMs: 1), nowMs: 501)
        }
        #expect(s?.userId == "old")  // a failed login leaves the previous session
        var bl = SessionBlacklist(ttlMs: 1000)
        bl.revoke("writer-1", nowMs: 0)
        let ops = AuthOperations(auth: fixtureAuth())
        #expect(throws: ServerError(.sessionRevoked, "Session has been revoked")) {
            try ops.handle(req("auth.login", ["token": "writer"]), session: &s, blacklist: bl, nowMs: 999)
        }
        #expect(s == nil)
        #expect(try ops.handle(req("auth.login", ["token": "writer"]), session: &s, blacklist: bl, nowMs: 1000) != .null)
    }

    @Test func whoamiClearsAnExpiredSession() throws {
        let ops = AuthOperations(auth: fixtureAuth())
        var s: AuthSession? = AuthSession(userId: "u", roles: [], expiresAt: 10)
        #expect(try ops.handle(req("auth.whoami"), session: &s, blacklist: SessionBlacklist(ttlMs: 1), nowMs: 11) == ["authenticated": false])
        #expect(s == nil)
    }

    @Test func notConfigured() {
        var s: AuthSession? = nil
        #expect(throws: ServerError(.unknownOperation, "Authentication is not configured")) {
            try AuthOperations(auth: nil).handle(req("auth.login", ["token": "x"]), session: &s, blacklist: SessionBlacklist(ttlMs: 1), nowMs: 0)
        }
    }
}
