import Foundation
import NoexJSON
import NoexRules
import NoexStore
import Testing
@testable import NoexServer

/// A server for the isolation tests: buckets `public` and `secret` (client-chosen string ids),
/// a query over each, a rule engine, and a static token table whose roles are limited by
/// permission rules. Tokens: `root` (role `root`, everything), `pub` (role `pub`: the `public`
/// bucket and its query, topics `orders.*`), `temp` (like `root`, expiring `expiresInMs` after
/// the server starts).
enum WireIsolation {
    static func store() -> Store {
        let store = Store(name: "isolation", nowMs: ServerClock.systemWallMs)
        for name in ["public", "secret"] {
            try! store.defineBucket(name, config: [
                "key": "id",
                "schema": ["id": ["type": "string", "required": true], "n": ["type": "number", "default": 0]],
            ])
            try! store.defineQuery("\(name)-all", config: ["bucket": .string(name)])
        }
        return store
    }

    static func server(expiresInMs: Int64 = 3_600_000) -> ServerThread {
        ServerThread {
            let now = ServerClock.systemWallMs()
            var config = ServerConfig(
                store: store(), rules: RuleEngine(config: RuleEngineConfig(name: "rule-engine"), clock: WallRulesClock()))
            let tokens: [String: AuthSession] = [
                "root": AuthSession(userId: "root-user", roles: ["root"]),
                "pub": AuthSession(userId: "pub-user", roles: ["pub"]),
                "temp": AuthSession(userId: "temp-user", roles: ["root"], expiresAt: now + expiresInMs),
            ]
            config.auth = .staticTokens(tokens, permissions: PermissionConfig(default: .deny, rules: [
                PermissionRule(role: "root", allow: ["*"]),
                PermissionRule(role: "pub", allow: ["store.*"], buckets: ["public", "public-all"]),
                PermissionRule(role: "pub", allow: ["rules.*"], topics: ["orders.*"]),
            ]))
            return config
        }
    }

    /// A connected client logged in with `token`.
    static func client(_ server: ServerThread, token: String) throws -> WireStoreClient {
        let c = try WireStoreClient(server)
        _ = c.data(["type": "auth.login", "token": .string(token)])
        return c
    }

    static func forbidden(_ id: Int64, _ type: String, on resource: String) -> String {
        wireError(id, "FORBIDDEN", "No permission for \(type) on \(resource)")
    }

    static func subscriptionEnded(_ sub: String, _ reason: String) -> String {
        ServerMessage.subscriptionEnded(subscriptionId: sub, reason: reason).jsonString
    }
}
