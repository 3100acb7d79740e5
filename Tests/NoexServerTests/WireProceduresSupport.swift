import Foundation
import NoexJSON
import NoexRules
import NoexStore
import Testing
@testable import NoexServer

/// Helpers for the procedures tests over real sockets (docs/procedures.md): the buckets of the
/// original's procedures scenario (`orders`, `items` with generated ids), `public` / `secret`
/// with client-chosen ids, a query over `public`, and a rule engine.
enum WireProcedures {
    static func store() -> Store {
        let store = Store(name: "procedures", nowMs: ServerClock.systemWallMs)
        try! store.defineBucket("orders", config: ["key": "id", "schema": [
            "id": ["type": "string", "generated": "uuid"], "status": ["type": "string"], "total": ["type": "number"],
        ]])
        try! store.defineBucket("items", config: ["key": "id", "schema": [
            "id": ["type": "string", "generated": "uuid"], "orderId": ["type": "string", "required": true],
            "price": ["type": "number", "required": true],
        ]])
        for name in ["public", "secret"] {
            try! store.defineBucket(name, config: ["key": "id", "schema": [
                "id": ["type": "string", "required": true], "n": ["type": "number", "default": 0],
                "code": ["type": "string", "unique": true],
            ]])
        }
        try! store.defineQuery("public-all", config: ["bucket": "public"])
        return store
    }

    static func server(rules: Bool = true, _ configure: @escaping @Sendable (inout ServerConfig) -> Void = { _ in }) -> ServerThread {
        ServerThread {
            let engine = rules ? RuleEngine(config: RuleEngineConfig(name: "rule-engine"), clock: WallRulesClock()) : nil
            var config = ServerConfig(store: store(), rules: engine)
            configure(&config)
            return config
        }
    }

    /// Static tokens: `admin` (role admin, everything), `writer` (role writer: procedures and
    /// rules, store operations on `public` only), `reader` (role reader, everything its tier allows).
    static func authServer(_ configure: @escaping @Sendable (inout ServerConfig) -> Void = { _ in }) -> ServerThread {
        server { config in
            config.auth = .staticTokens([
                "admin": AuthSession(userId: "admin-1", roles: ["admin"]),
                "writer": AuthSession(userId: "writer-1", roles: ["writer"]),
                "reader": AuthSession(userId: "reader-1", roles: ["reader"]),
            ], permissions: PermissionConfig(default: .deny, rules: [
                PermissionRule(role: "admin", allow: ["*"]),
                PermissionRule(role: "reader", allow: ["*"]),
                PermissionRule(role: "writer", allow: ["procedures.*", "rules.*"]),
                PermissionRule(role: "writer", allow: ["store.*"], buckets: ["public", "public-all"]),
            ]))
            configure(&config)
        }
    }

    static func client(_ server: ServerThread, token: String? = nil) throws -> WireStoreClient {
        let c = try WireStoreClient(server)
        if let token { #expect(c.ask(["type": "auth.login", "token": .string(token)])["type"] == "result") }
        return c
    }

    /// Registers `definition` and expects the original's answer.
    static func register(_ c: WireStoreClient, _ definition: JSON, sourceLocation: SourceLocation = #_sourceLocation) {
        let name = definition["name"]?.stringValue ?? ""
        #expect(c.data(["type": "procedures.register", "procedure": definition]) == ["name": .string(name), "registered": true],
                sourceLocation: sourceLocation)
    }

    static func call(_ c: WireStoreClient, _ name: String, _ input: JSON? = nil) -> JSON {
        var request: JSONObject = ["type": "procedures.call", "name": .string(name)]
        if let input { request["input"] = input }
        return c.ask(request)
    }

    /// The exact error answer with `details: {issues}`.
    static func errorWithIssues(_ id: Int64, _ message: String, _ issues: [String]) -> String {
        JSON.object(["id": .int(id), "type": "error", "code": "VALIDATION_ERROR", "message": .string(message),
                     "details": ["issues": .array(issues.map(JSON.string))]]).jsonString
    }
}
