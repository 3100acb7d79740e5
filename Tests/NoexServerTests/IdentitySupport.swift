import Foundation
import NoexJSON
import NoexStore
import Testing
@testable import NoexServer

/// A built-in identity server for the wire tests: the `items` fixture store, the admin secret
/// `test-admin-secret`, and whatever `configure` adds.
func identityServer(maxAttempts: Int = 5, windowMs: Int64 = 900_000,
                    configure: @escaping @Sendable (inout ServerConfig) -> Void = { _ in }) -> ServerThread {
    ServerThread(makeConfig: {
        var config = ServerConfig(store: wireStoreFixture())
        config.builtInAuth = BuiltInAuthConfig(adminSecret: "test-admin-secret",
                                               loginRateLimit: LoginRateLimitConfig(maxAttempts: maxAttempts, windowMs: windowMs))
        configure(&config)
        return config
    })
}

/// A connection logged in as the superadmin, after it created `alice` (password `password1234`)
/// with `roles`; returns it and alice's id.
func superadminWithAlice(_ server: ServerThread, roles: [String] = []) throws -> (WireStoreClient, String) {
    let su = try WireStoreClient(server)
    su.loginAsSuperadmin()
    return (su, su.createUser("alice", roles: roles))
}

extension WireStoreClient {
    /// Logs in as the virtual superadmin.
    @discardableResult
    func loginAsSuperadmin() -> JSON { data(["type": "identity.loginWithSecret", "secret": "test-admin-secret"]) }

    /// Logs in as `username`; returns the LoginResult.
    @discardableResult
    func login(_ username: String, _ password: String) -> JSON {
        data(["type": "identity.login", "username": .string(username), "password": .string(password)])
    }

    /// Creates a user (as the connected admin) and returns its id.
    func createUser(_ username: String, _ password: String = "password1234", roles: [String] = []) -> String {
        let id = data(["type": "identity.createUser", "username": .string(username), "password": .string(password)])["id"]?.stringValue ?? ""
        for role in roles { _ = data(["type": "identity.assignRole", "userId": .string(id), "roleName": .string(role)]) }
        return id
    }

    /// The error code and message of an answer (or the answer's type when it is not an error).
    func failure(_ fields: JSONObject) -> String {
        let a = ask(fields)
        guard a["type"] == "error" else { return "not an error: \(a.jsonString)" }
        return "\(a["code"]?.stringValue ?? "") \(a["message"]?.stringValue ?? "")"
    }
}
