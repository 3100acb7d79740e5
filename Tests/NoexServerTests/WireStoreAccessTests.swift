import Foundation
import NoexJSON
import NoexStore
import Testing
@testable import NoexServer

/// Envelope and routing errors, request rate limiting and auth on `store.*` requests, over real sockets.
@Suite struct WireStoreAccessTests {
    @Test func envelopeAndRoutingErrors() throws {
        let server = ServerThread { ServerConfig(store: wireStoreFixture()) }
        defer { server.stop() }
        let c = try WireStoreClient(server)
        let cases: [(String, String)] = [
            ("{not json", wireError(0, "PARSE_ERROR", "Invalid JSON")),
            ("", wireError(0, "PARSE_ERROR", "Invalid JSON")),
            (#"{"id":1,"type":"store.all","bucket":"items""#, wireError(0, "PARSE_ERROR", "Invalid JSON")),
            (#"[{"id":1,"type":"store.all","bucket":"items"}]"#, wireError(0, "PARSE_ERROR", "Message must be a JSON object")),
            ("null", wireError(0, "PARSE_ERROR", "Message must be a JSON object")),
            (#""store.all""#, wireError(0, "PARSE_ERROR", "Message must be a JSON object")),
            (#"{"id":5,"bucket":"items"}"#, wireError(0, "INVALID_REQUEST", "Message must include non-empty string \"type\"")),
            (#"{"id":5,"type":"","bucket":"items"}"#, wireError(0, "INVALID_REQUEST", "Message must include non-empty string \"type\"")),
            (#"{"id":"x"}"#, wireError(0, "INVALID_REQUEST", "Message must include non-empty string \"type\"")),
            (#"{"type":"store.get"}"#, wireError(0, "INVALID_REQUEST", "Request must include finite numeric \"id\"")),
            (#"{"id":"7","type":"store.all","bucket":"items"}"#, wireError(0, "INVALID_REQUEST", "Request must include finite numeric \"id\"")),
            (#"{"id":null,"type":"store.all","bucket":"items"}"#, wireError(0, "INVALID_REQUEST", "Request must include finite numeric \"id\"")),
            (#"{"type":"pong"}"#, wireError(0, "INVALID_REQUEST", "Pong must include finite numeric \"timestamp\"")),
            (#"{"id":15,"type":"store.frobnicate"}"#, wireError(15, "UNKNOWN_OPERATION", "Unknown store operation \"store.frobnicate\"")),
            (#"{"id":16,"type":"frobnicate"}"#, wireError(16, "UNKNOWN_OPERATION", "Unknown operation \"frobnicate\"")),
            // fields are top-level; a "payload" wrapper is not unwrapped
            (#"{"id":17,"type":"store.all","payload":{"bucket":"items"}}"#,
             wireError(17, "VALIDATION_ERROR", "Missing or invalid \"bucket\": expected non-empty string")),
            // ids are echoed as sent (negative, fractional)
            (#"{"id":-3,"type":"store.count","bucket":"items"}"#, #"{"id":-3,"type":"result","data":0}"#),
            (#"{"id":1.5,"type":"store.count","bucket":"items"}"#, #"{"id":1.5,"type":"result","data":0}"#),
        ]
        for (sent, expected) in cases {
            #expect(c.sendRaw(sent) == expected, "sent: \(sent)")
        }
        // a valid pong is not answered: the next answer is for the next request
        c.ws.sendText(#"{"type":"pong","timestamp":1}"#)
        #expect(c.askRaw(["id": 20, "type": "store.count", "bucket": "items"]) == #"{"id":20,"type":"result","data":0}"#)
    }

    @Test func requestRateLimit() throws {
        let server = ServerThread {
            var config = ServerConfig(store: wireStoreFixture())
            config.rateLimit = RateLimitConfig(maxRequests: 3, windowMs: 60_000)
            return config
        }
        defer { server.stop() }
        let c = try WireStoreClient(server)
        #expect(c.data(["type": "store.insert", "bucket": "items", "data": ["sku": "a", "name": "A"]])["sku"] == "a")
        #expect(c.ask(["type": "store.get", "bucket": "ghost", "key": "a"])["code"] == "BUCKET_NOT_DEFINED")  // errors count too
        #expect(c.data(["type": "store.count", "bucket": "items"]) == 1)
        let limited = c.ask(["id": 9, "type": "store.count", "bucket": "items"])
        let retry = try #require(limited["details"]?["retryAfterMs"]?.intValue)
        #expect(retry > 50_000 && retry <= 60_000)
        #expect(limited == ["id": 9, "type": "error", "code": "RATE_LIMITED",
                            "message": .string("Rate limit exceeded. Retry after \(retry)ms"), "details": ["retryAfterMs": .int(retry)]])
        #expect(limited.objectValue?.keys == ["id", "type", "code", "message", "details"])
        // every operation is limited, including unknown ones; the rejected ones were not recorded
        #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "b", "name": "B"]])["code"] == "RATE_LIMITED")
        #expect(c.ask(["type": "store.nope"])["code"] == "RATE_LIMITED")
        // envelope errors are not rate limited
        #expect(c.sendRaw("{oops") == wireError(0, "PARSE_ERROR", "Invalid JSON"))
        // the budget is per address: a second connection from 127.0.0.1 shares it
        let d = try WireStoreClient(server)
        #expect(d.ask(["type": "store.all", "bucket": "items"])["code"] == "RATE_LIMITED")
    }

    /// `exposeErrorDetails: false` removes `details` from every error answer, messages kept (docs/protocol/envelope.md#the-pipeline).
    @Test func hiddenErrorDetails() throws {
        let server = ServerThread {
            var config = ServerConfig(store: wireStoreFixture())
            config.exposeErrorDetails = false
            config.rateLimit = RateLimitConfig(maxRequests: 4, windowMs: 60_000)
            return config
        }
        defer { server.stop() }
        let c = try WireStoreClient(server)
        #expect(c.askRaw(["id": 1, "type": "store.insert", "bucket": "items", "data": ["sku": "a"]])
                == wireError(1, "VALIDATION_ERROR", "Validation failed for bucket \"items\": name: Field is required"))
        #expect(c.data(["type": "store.insert", "bucket": "items", "data": ["sku": "a", "name": "A"]])["sku"] == "a")
        #expect(c.askRaw(["id": 2, "type": "store.insert", "bucket": "items", "data": ["sku": "a", "name": "B"]])
                == wireError(2, "ALREADY_EXISTS", "Record with key \"a\" already exists in bucket \"items\""))
        #expect(c.askRaw(["id": 3, "type": "store.update", "bucket": "items", "key": "zz", "data": [:]])
                == wireError(3, "NOT_FOUND", "Record with key \"zz\" not found in bucket \"items\""))
        let limited = c.ask(["id": 4, "type": "store.count", "bucket": "items"])
        #expect(limited.objectValue?.keys == ["id", "type", "code", "message"])
        #expect(limited["code"] == "RATE_LIMITED" && limited["message"]?.stringValue?.hasPrefix("Rate limit exceeded. Retry after ") == true)
    }

    @Test func authOnStoreOperations() throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let server = ServerThread {
            var config = ServerConfig(store: wireStoreFixture())
            config.auth = .staticTokens([
                "admin-token": AuthSession(userId: "admin-1", roles: ["admin"]),
                "writer-token": AuthSession(userId: "writer-1", roles: ["writer"]),
                "reader-token": AuthSession(userId: "reader-1", roles: ["reader"]),
                "old-token": AuthSession(userId: "old-1", roles: ["admin"], expiresAt: now - 1000),
                "short-token": AuthSession(userId: "short-1", roles: ["admin"], expiresAt: now + 1500),
            ], permissions: PermissionConfig(default: .deny, rules: [
                PermissionRule(role: "admin", allow: ["*"]),
                PermissionRule(role: "reader", allow: ["store.*"]),
                PermissionRule(role: "writer", allow: ["store.*"], buckets: ["items"]),
            ]))
            return config
        }
        defer { server.stop() }
        let anon = try WireStoreClient(server)
        #expect(anon.welcome["requiresAuth"] == true)
        let required = "Authentication required"
        #expect(anon.askRaw(["id": 1, "type": "store.all", "bucket": "items"]) == wireError(1, "UNAUTHORIZED", required))
        #expect(anon.askRaw(["id": 2, "type": "store.defineBucket", "name": "x", "config": [:]]) == wireError(2, "UNAUTHORIZED", required))
        #expect(anon.askRaw(["id": 3, "type": "store.subscribe", "query": "all-items"]) == wireError(3, "UNAUTHORIZED", required))
        #expect(anon.askRaw(["id": 4, "type": "auth.login", "token": "wrong"]) == wireError(4, "UNAUTHORIZED", "Invalid token"))
        #expect(anon.askRaw(["id": 5, "type": "auth.login", "token": "old-token"]) == wireError(5, "UNAUTHORIZED", "Token has expired"))
        #expect(anon.askRaw(["id": 6, "type": "auth.login"])
                == wireError(6, "VALIDATION_ERROR", "Missing or invalid \"token\": expected non-empty string"))

        let reader = try WireStoreClient(server)
        #expect(reader.data(["type": "auth.login", "token": "reader-token"])["userId"] == "reader-1")
        #expect(reader.data(["type": "store.all", "bucket": "items"]) == [])
        #expect(reader.data(["type": "store.subscribe", "query": "all-items"])["data"] == [])
        #expect(reader.askRaw(["id": 7, "type": "store.insert", "bucket": "items", "data": ["sku": "r", "name": "R"]])
                == wireError(7, "FORBIDDEN", "Role level insufficient for store.insert (requires write)"))
        #expect(reader.askRaw(["id": 8, "type": "store.transaction", "operations": [["op": "count", "bucket": "items"]]])
                == wireError(8, "FORBIDDEN", "Role level insufficient for store.transaction (requires write)"))

        let writer = try WireStoreClient(server)
        #expect(writer.data(["type": "auth.login", "token": "writer-token"])["userId"] == "writer-1")
        #expect(writer.data(["type": "store.insert", "bucket": "items", "data": ["sku": "w", "name": "W"]])["sku"] == "w")
        #expect(reader.nextPush()?["data"]?.arrayValue?.count == 1)  // the reader's subscription sees it
        #expect(writer.askRaw(["id": 9, "type": "store.insert", "bucket": "users", "data": ["name": "N"]])
                == wireError(9, "FORBIDDEN", "No permission for store.insert on users"))
        #expect(writer.askRaw(["id": 10, "type": "store.clear", "bucket": "logs"])
                == wireError(10, "FORBIDDEN", "No permission for store.clear on logs"))
        for type in ["store.defineBucket", "store.dropBucket", "store.updateBucket", "store.getBucketSchema",
                     "store.defineQuery", "store.undefineQuery", "store.listQueries"] {
            #expect(writer.askRaw(["id": 11, "type": .string(type), "name": "items"])
                    == wireError(11, "FORBIDDEN", "Role level insufficient for \(type) (requires admin)"))
        }
        // the auth check runs before validation (no field errors leak to unauthorised callers)
        #expect(writer.askRaw(["id": 12, "type": "store.dropBucket"]) == wireError(12, "FORBIDDEN", "Role level insufficient for store.dropBucket (requires admin)"))

        let admin = try WireStoreClient(server)
        #expect(admin.data(["type": "auth.login", "token": "admin-token"])["roles"] == ["admin"])
        #expect(admin.data(["type": "store.getBucketSchema", "name": "items"])["config"]?["key"] == "sku")
        #expect(admin.data(["type": "store.insert", "bucket": "users", "data": ["name": "Adm"]])["name"] == "Adm")

        // a session that expires after login: "Session expired", then "Authentication required"
        let short = try WireStoreClient(server)
        #expect(short.data(["type": "auth.login", "token": "short-token"])["userId"] == "short-1")
        #expect(short.data(["type": "store.count", "bucket": "items"]) == 1)
        let expiresAt = now + 1500
        while Int64(Date().timeIntervalSince1970 * 1000) <= expiresAt + 20 { Thread.sleep(forTimeInterval: 0.05) }
        #expect(short.askRaw(["id": 13, "type": "store.count", "bucket": "items"]) == wireError(13, "UNAUTHORIZED", "Session expired"))
        #expect(short.askRaw(["id": 14, "type": "store.count", "bucket": "items"]) == wireError(14, "UNAUTHORIZED", required))
    }
}
