import Foundation
import NoexJSON
import NoexStore
import Testing
@testable import NoexServer

/// Servers for the audit tests: the wire-store fixture (demo buckets plus `items`) behind
/// Fixture A's tokens (`admin`, `writer`, `reader`), with an audit log.
enum WireAudit {
    static func server(tiers: Set<OperationTier> = [.admin], maxEntries: Int = 10_000,
                       persistence: PersistenceOptions? = nil, rateLimit: RateLimitConfig? = nil,
                       maxBufferedBytes: Int? = nil, tempTokenTtlMs: Int64? = nil, audit: Bool = true) -> ServerThread {
        ServerThread {
            var c = ServerConfig(store: wireStoreFixture())
            // Fixture A, plus `temp` (an admin session of `temp-1` expiring after tempTokenTtlMs)
            let fixture = fixtureAuth()
            let tempExpiry = ServerClock.systemWallMs() + (tempTokenTtlMs ?? 0)
            c.auth = AuthConfig { token in
                token == "temp" ? AuthSession(userId: "temp-1", roles: ["admin"], expiresAt: tempExpiry) : try fixture.validate(token)
            }
            c.audit = audit ? AuditConfig(tiers: tiers, maxEntries: maxEntries) : nil
            c.persistence = persistence
            c.rateLimit = rateLimit
            if let maxBufferedBytes { c.backpressure = BackpressureConfig(maxBufferedBytes: maxBufferedBytes) }
            return c
        }
    }

    /// A connected client logged in with one of Fixture A's tokens.
    static func login(_ server: ServerThread, _ token: String) throws -> WireStoreClient {
        let c = try WireStoreClient(server)
        #expect(c.ask(["type": "auth.login", "token": .string(token)])["type"] == "result")
        return c
    }

    /// The entries of `audit.query` with these filters (as `admin`, which must be allowed).
    static func entries(_ c: WireStoreClient, _ filter: JSONObject = [:]) -> [JSON] {
        var request = filter
        request["type"] = "audit.query"
        return c.data(request)["entries"]?.arrayValue ?? []
    }

    /// Checks `actual` against `expected` byte for byte, after checking its timestamp is a wall
    /// time in ms and taking it over (the only field a test cannot know).
    static func expectEntry(_ actual: JSON?, _ expected: AuditEntry, sourceLocation: SourceLocation = #_sourceLocation) {
        let ts = actual?["timestamp"]?.intValue ?? 0
        #expect(ts > 1_600_000_000_000, "timestamp \(ts)", sourceLocation: sourceLocation)
        var e = expected
        e.timestamp = ts
        #expect(actual?.jsonString == e.json.jsonString, sourceLocation: sourceLocation)
    }

    static func entry(_ operation: String, user: String?, conn: Int = 1, resource: String = "*",
                      error: String? = nil, details: JSONObject? = nil) -> AuditEntry {
        AuditEntry(timestamp: 0, userId: user, sessionId: "conn-\(conn)", operation: operation, resource: resource,
                   result: error == nil ? .success : .error, error: error, details: details, remoteAddress: "127.0.0.1")
    }

    static func operations(_ entries: [JSON]) -> [String] { entries.map { $0["operation"]?.stringValue ?? "?" } }
}

@Suite struct WireAuditTests {
    /// The original's scenario T39, with exact entries.
    @Test func scenarioT39() throws {
        let server = WireAudit.server()
        defer { server.stop() }
        let admin = try WireAudit.login(server, "admin")
        #expect(admin.ask(["type": "server.stats"])["type"] == "result")
        let first = WireAudit.entries(admin)
        #expect(first.count == 1)
        WireAudit.expectEntry(first.first, WireAudit.entry("server.stats", user: "admin-1"))
        // store.insert is not audited with the default tiers; the first query is (after its answer).
        #expect(admin.ask(["type": "store.insert", "bucket": "users", "data": ["name": "Ann"]])["type"] == "result")
        #expect(WireAudit.operations(WireAudit.entries(admin)) == ["audit.query", "server.stats"])

        let writer = try WireAudit.login(server, "writer")
        let denied = "Role level insufficient for server.stats (requires admin)"
        #expect(writer.askRaw(["id": 50, "type": "server.stats"]) == wireError(50, "FORBIDDEN", denied))
        WireAudit.expectEntry(WireAudit.entries(admin, ["limit": 1]).first,
                              WireAudit.entry("server.stats", user: "writer-1", conn: 2, error: denied))

        // filters, ANDed; limit after filtering
        let byWriter = WireAudit.entries(admin, ["userId": "writer-1"])
        #expect(byWriter.count == 1 && byWriter.first?["result"] == "error")
        #expect(WireAudit.entries(admin, ["operation": "server.stats"]).map { $0["userId"] } == ["writer-1", "admin-1"])
        #expect(WireAudit.entries(admin, ["operation": "server.stats", "result": "success"]).map { $0["userId"] } == ["admin-1"])
        #expect(WireAudit.operations(WireAudit.entries(admin, ["limit": 2])) == ["audit.query", "audit.query"])
        #expect(WireAudit.entries(admin, ["userId": "nobody"]).isEmpty)
        #expect(admin.askRaw(["id": 60, "type": "audit.query", "limit": -1])
                == wireError(60, "VALIDATION_ERROR", #"Invalid "limit": expected positive integer"#))
        #expect(admin.askRaw(["id": 61, "type": "audit.query", "from": "yesterday"])
                == wireError(61, "VALIDATION_ERROR", #"Invalid "from": expected number"#))
        // writers and readers may not read the trail; their attempts are in it
        let reader = try WireAudit.login(server, "reader")
        for (c, user, conn) in [(writer, "writer-1", 2), (reader, "reader-1", 3)] {
            #expect(c.askRaw(["id": 70, "type": "audit.query"])
                    == wireError(70, "FORBIDDEN", "Role level insufficient for audit.query (requires admin)"))
            WireAudit.expectEntry(WireAudit.entries(admin, ["limit": 1, "userId": .string(user)]).first,
                                  WireAudit.entry("audit.query", user: user, conn: conn,
                                                  error: "Role level insufficient for audit.query (requires admin)"))
        }
    }

    /// Every validation message of `audit.query`, in the original's order; `null` is a type error.
    @Test func everyValidationMessage() throws {
        let server = WireAudit.server()
        defer { server.stop() }
        let admin = try WireAudit.login(server, "admin")
        let cases: [(JSONObject, String)] = [
            (["userId": 5], #"Invalid "userId": expected string"#),
            (["userId": .null], #"Invalid "userId": expected string"#),
            (["operation": ["server.stats"]], #"Invalid "operation": expected string"#),
            (["result": "ok"], #"Invalid "result": expected "success" or "error""#),
            (["result": .null], #"Invalid "result": expected "success" or "error""#),
            (["from": "yesterday"], #"Invalid "from": expected number"#),
            (["to": true], #"Invalid "to": expected number"#),
            (["limit": 0], #"Invalid "limit": expected positive integer"#),
            (["limit": 1.5], #"Invalid "limit": expected positive integer"#),
            (["limit": "2"], #"Invalid "limit": expected positive integer"#),
            // the first invalid field in the original's order wins
            (["limit": 0, "userId": 1], #"Invalid "userId": expected string"#),
            (["to": "x", "from": "y"], #"Invalid "from": expected number"#),
        ]
        for (i, (fields, message)) in cases.enumerated() {
            var request = fields
            request["id"] = .int(Int64(100 + i))
            request["type"] = "audit.query"
            #expect(admin.askRaw(request) == wireError(Int64(100 + i), "VALIDATION_ERROR", message), "\(fields)")
        }
        // accepted forms: 2.0 is an integer, from/to are inclusive numbers, unknown keys are ignored
        #expect(admin.ask(["type": "audit.query", "limit": 2.0, "from": 0, "to": 1e15, "extra": true])["type"] == "result")
        #expect(admin.askRaw(["id": 200, "type": "audit.frobnicate"])
                == wireError(200, "UNKNOWN_OPERATION", #"Unknown audit operation "audit.frobnicate""#))
        // from/to bound the timestamps inclusively
        let newest = try #require(WireAudit.entries(admin, ["limit": 1]).first?["timestamp"]?.intValue)
        #expect(WireAudit.entries(admin, ["from": .int(newest), "to": .int(newest)]).count >= 1)
        #expect(WireAudit.entries(admin, ["from": .int(newest + 1_000_000)]).isEmpty)
        #expect(WireAudit.entries(admin, ["to": .int(newest - 1_000_000)]).isEmpty)
    }

    /// `tiers` decides what is recorded: with write added, data writes are audited with their
    /// bucket as the resource; reads never are.
    @Test func tiersChooseWhatIsRecorded() throws {
        let server = WireAudit.server(tiers: [.admin, .write])
        defer { server.stop() }
        let admin = try WireAudit.login(server, "admin")
        #expect(admin.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "a", "name": "A"]])["type"] == "result")
        #expect(admin.ask(["type": "store.get", "bucket": "items", "key": "a"])["type"] == "result")
        #expect(admin.ask(["type": "store.update", "bucket": "items", "key": "zz", "data": ["qty": 1]])["type"] == "error")
        let entries = WireAudit.entries(admin)
        #expect(WireAudit.operations(entries) == ["store.update", "store.insert"])
        WireAudit.expectEntry(entries.last, WireAudit.entry("store.insert", user: "admin-1", resource: "items"))
        #expect(entries.first?["error"] == #"Record with key "zz" not found in bucket "items""#)

        let readsOnly = WireAudit.server(tiers: [.read])
        defer { readsOnly.stop() }
        let a = try WireAudit.login(readsOnly, "admin")
        #expect(a.ask(["type": "store.count", "bucket": "items"])["type"] == "result")
        #expect(a.ask(["type": "server.stats"])["type"] == "result")
        // audit.query is admin-tier, so it is not recorded either
        #expect(WireAudit.operations(WireAudit.entries(a)) == ["store.count"])
        #expect(WireAudit.operations(WireAudit.entries(a)) == ["store.count"])
    }

    /// Auth and rate-limit rejections are recorded as errors; untiered types, envelope errors and
    /// pongs are not.
    @Test func rejectionsAreRecordedUntieredRequestsAreNot() throws {
        let server = WireAudit.server(tiers: [.admin, .write], rateLimit: RateLimitConfig(maxRequests: 3, windowMs: 600_000))
        defer { server.stop() }
        let anonymous = try WireStoreClient(server)
        #expect(anonymous.askRaw(["id": 1, "type": "server.stats"]) == wireError(1, "UNAUTHORIZED", "Authentication required"))
        _ = anonymous.sendRaw("{not json")
        _ = anonymous.sendRaw(#"{"type":"store.insert"}"#)
        anonymous.ws.sendText(#"{"type":"pong","timestamp":1}"#)
        let writer = try WireAudit.login(server, "writer")  // charged to the address
        var limited = ""
        for i in 0..<4 {
            let answer = writer.ask(["type": "store.insert", "bucket": "items", "data": ["sku": .string("k\(i)"), "name": "x"]])
            if answer["code"] == "RATE_LIMITED" { limited = answer["message"]?.stringValue ?? "" }
        }
        #expect(limited.hasPrefix("Rate limit exceeded. Retry after "))
        _ = writer.ask(["type": "auth.whoami"])  // untiered (and over the limit): not recorded
        _ = writer.ask(["type": "frobnicate"])
        _ = writer.ask(["type": "identity.whoami"])  // an identity name without a tier
        let admin = try WireAudit.login(server, "admin")
        let entries = WireAudit.entries(admin)
        #expect(WireAudit.operations(entries) == ["store.insert", "store.insert", "store.insert", "store.insert", "server.stats"])
        WireAudit.expectEntry(entries.first, WireAudit.entry("store.insert", user: "writer-1", conn: 2, resource: "items", error: limited))
        WireAudit.expectEntry(entries.last, WireAudit.entry("server.stats", user: nil, error: "Authentication required"))
    }

    /// `userId` is the session after handling: a request whose session expired is recorded
    /// without a user.
    @Test func theUserIsTheSessionAfterHandling() throws {
        let server = WireAudit.server(tempTokenTtlMs: 2000)
        defer { server.stop() }
        let temp = try WireAudit.login(server, "temp")
        #expect(temp.ask(["type": "server.stats"])["type"] == "result")
        Thread.sleep(forTimeInterval: 2.1)
        #expect(temp.askRaw(["id": 9, "type": "server.stats"]) == wireError(9, "UNAUTHORIZED", "Session expired"))
        let admin = try WireAudit.login(server, "admin")
        let entries = WireAudit.entries(admin)
        #expect(entries.count == 2)
        WireAudit.expectEntry(entries.first, WireAudit.entry("server.stats", user: nil, error: "Session expired"))
        WireAudit.expectEntry(entries.last, WireAudit.entry("server.stats", user: "temp-1"))
    }

    /// Identity operations are tiered, so they are recorded even while identity is not
    /// configured, with the original's resource and details (request values verbatim, never a
    /// password).
    @Test func identityRequestsRecordResourceAndDetailsButNoPassword() throws {
        let server = WireAudit.server()
        defer { server.stop() }
        let admin = try WireAudit.login(server, "admin")
        let off = "Identity management is not configured"
        let requests: [(JSONObject, String, JSONObject?)] = [
            (["type": "identity.login", "username": "bob", "password": "hunter2"], "user:bob", ["username": "bob"]),
            (["type": "identity.createUser", "username": "alice", "password": "s3cret-pass", "displayName": "A"], "user:alice", ["username": "alice"]),
            (["type": "identity.changePassword", "userId": "u1", "currentPassword": "old-pass", "newPassword": "new-pass"], "user:u1", nil),
            (["type": "identity.assignRole", "userId": "u1", "roleName": "writer"], "user:u1", ["userId": "u1", "roleName": "writer"]),
            (["type": "identity.removeRole", "userId": "u1"], "user:u1", ["userId": "u1"]),
            (["type": "identity.deleteRole", "roleId": "r1"], "role:r1", nil),
            (["type": "identity.createRole", "name": "ops", "permissions": []], "ops", nil),
            (["type": "identity.grant", "subjectType": "user", "subjectId": "u1", "resourceType": "bucket", "resourceName": "items", "operations": ["read", "write"]],
             "bucket:items", ["subjectType": "user", "subjectId": "u1", "resourceType": "bucket", "resourceName": "items", "operations": ["read", "write"]]),
            (["type": "identity.revoke", "subjectType": "role", "subjectId": "r1", "resourceType": "query", "resourceName": 7, "operations": "all"],
             "*", ["subjectType": "role", "subjectId": "r1", "resourceType": "query", "resourceName": 7, "operations": "all"]),
            (["type": "identity.transferOwner", "resourceType": "bucket", "resourceName": "items", "newOwnerId": "u2"],
             "bucket:items", ["resourceType": "bucket", "resourceName": "items", "newOwnerId": "u2"]),
        ]
        for (request, _, _) in requests {
            #expect(admin.ask(request)["message"] == .string(off))
        }
        let raw = try #require(admin.askRaw(["id": 99, "type": "audit.query"]))
        for secret in ["hunter2", "s3cret-pass", "old-pass", "new-pass"] { #expect(!raw.contains(secret)) }
        let entries = Array(AuditAnswer.parse(raw).reversed())
        #expect(entries.count == requests.count)
        for (entry, (request, resource, details)) in zip(entries, requests) {
            WireAudit.expectEntry(entry, WireAudit.entry(request["type"]!.stringValue!, user: "admin-1", resource: resource, error: off, details: details))
        }
    }

    /// Every field an entry copies from the request is cut to a bounded size, so a hostile
    /// client cannot make the trail hold megabytes per entry.
    @Test func clientChosenFieldsAreBounded() throws {
        let server = WireAudit.server()
        defer { server.stop() }
        let admin = try WireAudit.login(server, "admin")
        let huge = String(repeating: "x", count: 100_000)  // 7 of them stay under maxPayloadBytes
        _ = admin.ask(["type": "identity.grant", "subjectType": .string(huge), "subjectId": .string(huge),
                       "resourceType": "bucket", "resourceName": .string(huge), "operations": .array(Array(repeating: .string(huge), count: 4))])
        _ = admin.ask(["type": "store.dropBucket", "name": .string("b" + huge)])
        let raw = try #require(admin.askRaw(["type": "audit.query"]))
        #expect(raw.utf8.count < 4096, "\(raw.utf8.count) bytes")
        let entries = AuditAnswer.parse(raw)
        #expect(entries.first?["resource"] == .string(String(repeating: "b", count: 1) + String(repeating: "x", count: 255) + "…"))
        #expect((entries.first?["error"]?.stringValue?.utf8.count ?? 0) <= AuditFacts.maxErrorBytes + 3)
        #expect(entries.last?["resource"] == .string("bucket:" + String(repeating: "x", count: 249) + "…"))
        #expect(entries.last?["details"]?["subjectType"] == .string(String(repeating: "x", count: 1024) + "…"))
    }

    /// `maxEntries` bounds the trail: the oldest entry goes first.
    @Test func theRingOverwritesTheOldest() throws {
        let server = WireAudit.server(maxEntries: 3)
        defer { server.stop() }
        let admin = try WireAudit.login(server, "admin")
        for name in ["a", "b", "c", "d", "e"] {
            #expect(admin.ask(["type": "store.getBucketSchema", "name": .string(name)])["type"] == "error")
        }
        #expect(WireAudit.entries(admin).map { $0["resource"] } == ["e", "d", "c"])
        #expect(WireAudit.entries(admin).map { $0["resource"] } == ["*", "e", "d"])
    }

    /// A query over a large trail is capped at half the connection's hard write limit, so it
    /// neither turns into BACKPRESSURE nor builds an unbounded answer; `limit` still works.
    @Test func aLargeAnswerIsCappedToTheWriteLimit() throws {
        let server = WireAudit.server(maxBufferedBytes: 32_768)
        defer { server.stop() }
        let admin = try WireAudit.login(server, "admin")
        let name = String(repeating: "n", count: 200)
        for i in 0..<300 { _ = admin.ask(["type": "store.getBucketSchema", "name": .string("\(name)\(i)")]) }
        let raw = try #require(admin.askRaw(["type": "audit.query"]))
        let entries = AuditAnswer.parse(raw)
        #expect(raw.hasPrefix(#"{"id":"#) && raw.contains(#""type":"result""#))
        #expect(raw.utf8.count <= 16_384 + 64, "\(raw.utf8.count) bytes")
        #expect(entries.count > 10 && entries.count < 300)
        #expect(entries.first?["resource"] == .string("\(name)299"), "newest first")
        #expect(AuditAnswer.parse(admin.askRaw(["type": "audit.query", "limit": 5]) ?? "").count == 5)
    }
}

/// The entries of a raw `audit.query` answer.
enum AuditAnswer {
    static func parse(_ raw: String) -> [JSON] {
        ((try? JSON.parse(raw))?["data"]?["entries"]?.arrayValue) ?? []
    }
}
