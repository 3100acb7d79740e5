import Foundation
import NoexJSON
import NoexStore
import Testing
@testable import NoexServer

/// `store.transaction` (docs/protocol/store-operations.md) and `store.subscribe`/`store.unsubscribe` (docs/protocol/store-operations.md#subscriptions) over real sockets.
@Suite struct WireStoreTransactionSubscriptionTests {
    private func start(_ tweak: @escaping @Sendable (inout ServerConfig) -> Void = { _ in }) -> ServerThread {
        ServerThread {
            var config = ServerConfig(store: wireStoreFixture())
            tweak(&config)
            return config
        }
    }

    /// Each subscription's push head is built once, at subscribe time: pushes carry the id of
    /// their own subscription, whatever its length, also after unsubscribing and subscribing
    /// again, and are byte for byte the push object's serialisation.
    @Test func pushesCarryTheirOwnIdsExactlyAcrossUnsubscribeAndResubscribe() throws {
        let server = start()
        defer { server.stop() }
        let a = try WireStoreClient(server)
        let b = try WireStoreClient(server)
        func subscribe() -> String { a.data(["type": "store.subscribe", "query": "all-items"])["subscriptionId"]?.stringValue ?? "" }
        func unsubscribe(_ id: String) { #expect(a.data(["type": "store.unsubscribe", "subscriptionId": .string(id)]) == ["unsubscribed": true]) }
        for n in 1...8 {
            #expect(subscribe() == "sub-\(n)")
            unsubscribe("sub-\(n)")
        }
        #expect(subscribe() == "sub-9")
        #expect(subscribe() == "sub-10")
        /// The raw pushes `a` gets for one insert by `b`, checked against the bucket's content.
        func pushes(after sku: String) -> [String] {
            #expect(b.ask(["type": "store.insert", "bucket": "items", "data": ["sku": .string(sku), "name": "N"]])["type"] == "result")
            let all = b.data(["type": "store.all", "bucket": "items"])
            let raw = (0..<2).compactMap { _ in a.ws.nextText() }
            var ids: [String] = []
            for text in raw {
                let push = WireStoreClient.parse(text)
                let id = push["subscriptionId"]?.stringValue ?? ""
                ids.append(id)
                #expect(text == ServerMessage.subscriptionPush(subscriptionId: id, data: all).jsonString)
            }
            return ids
        }
        #expect(pushes(after: "p1") == ["sub-9", "sub-10"])
        unsubscribe("sub-9")
        #expect(subscribe() == "sub-11")
        #expect(pushes(after: "p2") == ["sub-10", "sub-11"])
        unsubscribe("sub-10")
        unsubscribe("sub-11")
        #expect(b.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "p3", "name": "N"]])["type"] == "result")
        #expect(a.noPush())
    }

    @Test func transactionSuccessAndRollback() throws {
        let server = start()
        defer { server.stop() }
        let c = try WireStoreClient(server)
        #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "a1", "name": "Apple", "qty": 1]])["type"] == "result")
        let tx = c.ask(["id": 1, "type": "store.transaction", "operations": [
            ["op": "insert", "bucket": "items", "data": ["sku": "b2", "name": "Banana"]],
            ["op": "update", "bucket": "items", "key": "a1", "data": ["qty": 2]],
            ["op": "get", "bucket": "items", "key": "b2"],
            ["op": "where", "bucket": "items", "filter": ["qty": 2]],
            ["op": "findOne", "bucket": "items", "filter": ["name": "Banana"]],
            ["op": "count", "bucket": "items"],
            ["op": "delete", "bucket": "items", "key": "missing"],
            ["op": "get", "bucket": "items", "key": "missing"],
        ]])
        #expect(tx["id"] == 1 && tx["type"] == "result")
        let results = try #require(tx["data"]?["results"]?.arrayValue)
        #expect(tx["data"]?.objectValue?.keys == ["results"])
        #expect(results.map { $0.objectValue?.keys ?? [] }.allSatisfy { $0 == ["index", "data"] })
        #expect(results.map { $0["index"] } == [0, 1, 2, 3, 4, 5, 6, 7])
        let banana = wireItem("b2", "Banana")
        let apple2 = wireItem("a1", "Apple", qty: 2, version: 2)
        #expect(wireStable(.array(results.map { $0["data"] ?? .null }))
                == [banana, apple2, banana, [apple2], banana, 2, ["deleted": true], .null])
        #expect(wireStable(c.data(["type": "store.all", "bucket": "items"])) == [apple2, banana])

        // A failing op rolls everything back: validation error with details.
        #expect(c.ask(["id": 2, "type": "store.transaction", "operations": [
            ["op": "update", "bucket": "items", "key": "a1", "data": ["qty": 99]],
            ["op": "insert", "bucket": "items", "data": ["sku": "c3"]],
        ]]) == [
            "id": 2, "type": "error", "code": "VALIDATION_ERROR",
            "message": "Validation failed for bucket \"items\": name: Field is required",
            "details": [["field": "name", "message": "Field is required", "code": "required"]],
        ])
        // update of a missing key → NOT_FOUND (docs/protocol.md deviation 3)
        let missing = c.ask(["id": 3, "type": "store.transaction", "operations": [
            ["op": "insert", "bucket": "items", "data": ["sku": "c3", "name": "Cherry"]],
            ["op": "update", "bucket": "items", "key": "zz", "data": ["qty": 1]],
        ]])
        #expect(missing == ["id": 3, "type": "error", "code": "NOT_FOUND",
                            "message": "Record with key \"zz\" not found in bucket \"items\"", "details": ["bucket": "items", "key": "zz"]])
        // unknown bucket → BUCKET_NOT_DEFINED (deviation 3; the original says INTERNAL_ERROR)
        #expect(c.askRaw(["id": 4, "type": "store.transaction", "operations": [
            ["op": "insert", "bucket": "items", "data": ["sku": "c3", "name": "Cherry"]],
            ["op": "insert", "bucket": "ghost", "data": [:]],
        ]]) == wireError(4, "BUCKET_NOT_DEFINED", "Bucket \"ghost\" is not defined"))
        // unique violation inside a transaction
        #expect(c.ask(["type": "store.update", "bucket": "items", "key": "b2", "data": ["code": "K"]])["type"] == "result")
        #expect(c.ask(["id": 5, "type": "store.transaction", "operations": [
            ["op": "insert", "bucket": "items", "data": ["sku": "c3", "name": "Cherry", "code": "K"]],
        ]]) == ["id": 5, "type": "error", "code": "ALREADY_EXISTS",
                "message": "Unique constraint violation in bucket \"items\": field \"code\" already has value \"K\"",
                "details": ["bucket": "items", "field": "code", "value": "K"]])
        #expect(wireStable(c.data(["type": "store.get", "bucket": "items", "key": "a1"])) == apple2)
        #expect(c.data(["type": "store.count", "bucket": "items"]) == 2)
    }

    /// CONFLICT: a transactional insert of a key that exists (at commit) or was already inserted in
    /// the same transaction.
    @Test func transactionConflict() throws {
        let server = start()
        defer { server.stop() }
        let c = try WireStoreClient(server)
        #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "a1", "name": "Apple"]])["type"] == "result")
        #expect(c.ask(["id": 1, "type": "store.transaction", "operations": [
            ["op": "insert", "bucket": "items", "data": ["sku": "n1", "name": "New"]],
            ["op": "insert", "bucket": "items", "data": ["sku": "n1", "name": "Twice"]],
        ]]) == ["id": 1, "type": "error", "code": "CONFLICT",
                "message": "Transaction conflict in bucket \"items\" for key \"n1\": Record with key \"n1\" already exists",
                "details": ["bucket": "items", "key": "n1"]])
        let existing = c.ask(["id": 2, "type": "store.transaction", "operations": [
            ["op": "insert", "bucket": "items", "data": ["sku": "n2", "name": "Other"]],
            ["op": "insert", "bucket": "items", "data": ["sku": "a1", "name": "Dup"]],
        ]])
        #expect(existing["code"] == "CONFLICT" && existing["details"] == ["bucket": "items", "key": "a1"])
        #expect(existing["message"] == "Transaction conflict in bucket \"items\" for key \"a1\": Record with key \"a1\" already exists")
        #expect(c.data(["type": "store.all", "bucket": "items"]).arrayValue?.map { $0["sku"] } == ["a1"])
    }

    @Test func transactionValidationMessages() throws {
        let server = start()
        defer { server.stop() }
        let c = try WireStoreClient(server)
        let dash = "\u{2014}"
        let cases: [(JSON?, String)] = [
            (nil, "Missing or invalid \"operations\": expected array"),
            ("x", "Missing or invalid \"operations\": expected array"),
            (["op": "get"], "Missing or invalid \"operations\": expected array"),
            ([], "\"operations\" must contain at least one operation"),
            (["x"], "operations[0]: expected object"),
            ([["op": "count", "bucket": "items"], .null], "operations[1]: expected object"),
            ([["op": "upsert", "bucket": "items"]], "operations[0]: invalid \"op\" \(dash) expected one of: get, insert, update, delete, where, findOne, count"),
            ([["bucket": "items"]], "operations[0]: invalid \"op\" \(dash) expected one of: get, insert, update, delete, where, findOne, count"),
            ([["op": "insert", "data": [:]]], "operations[0]: missing or invalid \"bucket\""),
            ([["op": "insert", "bucket": "", "data": [:]]], "operations[0]: missing or invalid \"bucket\""),
            ([["op": "get", "bucket": "items"]], "operations[0]: \"get\" requires \"key\""),
            ([["op": "delete", "bucket": "items"]], "operations[0]: \"delete\" requires \"key\""),
            ([["op": "insert", "bucket": "items"]], "operations[0]: \"insert\" requires \"data\" object"),
            ([["op": "update", "bucket": "items", "key": "a", "data": 1]], "operations[0]: \"update\" requires \"data\" object"),
            ([["op": "where", "bucket": "items"]], "operations[0]: \"where\" requires \"filter\" object"),
            ([["op": "findOne", "bucket": "items", "filter": "x"]], "operations[0]: \"findOne\" requires \"filter\" object"),
        ]
        for (i, (ops, msg)) in cases.enumerated() {
            var r: JSONObject = ["id": .int(Int64(i + 1)), "type": "store.transaction"]
            if let ops { r["operations"] = ops }
            #expect(c.askRaw(r) == wireError(Int64(i + 1), "VALIDATION_ERROR", msg), "\(String(describing: ops))")
        }
        // all ops are validated before any runs: the valid insert before the bad op is not applied
        #expect(c.ask(["type": "store.transaction", "operations": [
            ["op": "insert", "bucket": "items", "data": ["sku": "v", "name": "V"]], ["op": "where", "bucket": "items"],
        ]])["code"] == "VALIDATION_ERROR")
        #expect(c.data(["type": "store.count", "bucket": "items"]) == 0)
    }

    /// docs/protocol/store-operations.md: `get`/`update`/`delete` with `"key": null` must fail validation like a missing key.
    @Test func transactionNullKeyIsAValidationError() throws {
        let server = start()
        defer { server.stop() }
        let c = try WireStoreClient(server)
        for (i, op) in ["get", "update", "delete"].enumerated() {
            let id = Int64(i + 1)
            let answer = c.askRaw(["id": .int(id), "type": "store.transaction", "operations": [
                ["op": .string(op), "bucket": "items", "key": .null, "data": [:]],
            ]])
            #expect(answer == wireError(id, "VALIDATION_ERROR", "operations[0]: \"\(op)\" requires \"key\""))
        }
    }

    /// A subscription on connection B gets pushes for mutations made on connection A.
    @Test func subscribePushUnsubscribe() throws {
        let server = start()
        defer { server.stop() }
        let a = try WireStoreClient(server)
        let b = try WireStoreClient(server)
        #expect(b.askRaw(["id": 1, "type": "store.subscribe", "query": "user-count"])
                == #"{"id":1,"type":"result","data":{"subscriptionId":"sub-1","data":0}}"#)
        #expect(b.askRaw(["id": 2, "type": "store.subscribe", "query": "users-by-role", "params": ["role": "admin"]])
                == #"{"id":2,"type":"result","data":{"subscriptionId":"sub-2","data":[]}}"#)
        #expect(b.askRaw(["id": 3, "type": "store.subscribe", "query": "all-items", "params": .null])
                == #"{"id":3,"type":"result","data":{"subscriptionId":"sub-3","data":[]}}"#)
        #expect(b.noPush(withinMs: 150))  // no initial push

        #expect(a.ask(["type": "store.insert", "bucket": "users", "data": ["name": "Reg"]])["type"] == "result")
        let countPush = try #require(b.nextPush())
        #expect(countPush.jsonString == #"{"type":"push","channel":"subscription","subscriptionId":"sub-1","data":1}"#)
        #expect(b.noPush(withinMs: 200))  // users-by-role(admin) unchanged → deduplicated
        let admin = a.data(["type": "store.insert", "bucket": "users", "data": ["name": "Ada", "role": "admin"]])
        var got: [String: JSON] = [:]
        for _ in 0..<2 {
            let p = try #require(b.nextPush())
            #expect(p.objectValue?.keys == ["type", "channel", "subscriptionId", "data"])
            got[p["subscriptionId"]?.stringValue ?? "?"] = p["data"]
        }
        #expect(got == ["sub-1": 2, "sub-2": [admin]])
        #expect(a.noPush(withinMs: 100))  // pushes go only to the subscriber

        // a transaction commit pushes too (once per subscription)
        #expect(a.ask(["type": "store.transaction", "operations": [
            ["op": "insert", "bucket": "items", "data": ["sku": "t1", "name": "T"]],
            ["op": "insert", "bucket": "items", "data": ["sku": "t2", "name": "U"]],
        ]])["type"] == "result")
        let itemsPush = try #require(b.nextPush())
        #expect(itemsPush["subscriptionId"] == "sub-3")
        #expect(wireStable(itemsPush["data"]) == [wireItem("t1", "T"), wireItem("t2", "U")])
        #expect(b.noPush(withinMs: 150))

        #expect(b.askRaw(["id": 4, "type": "store.unsubscribe", "subscriptionId": "sub-1"])
                == #"{"id":4,"type":"result","data":{"unsubscribed":true}}"#)
        #expect(a.ask(["type": "store.insert", "bucket": "users", "data": ["name": "Late"]])["type"] == "result")
        #expect(b.noPush(withinMs: 250))
        #expect(b.askRaw(["id": 5, "type": "store.unsubscribe", "subscriptionId": "sub-1"])
                == wireError(5, "NOT_FOUND", "Subscription \"sub-1\" not found"))
        // an id is only valid on the connection that created it
        #expect(a.askRaw(["id": 6, "type": "store.unsubscribe", "subscriptionId": "sub-2"])
                == wireError(6, "NOT_FOUND", "Subscription \"sub-2\" not found"))

        // errors
        let queryMsg = "Missing or invalid \"query\": expected non-empty string"
        #expect(b.askRaw(["id": 7, "type": "store.subscribe"]) == wireError(7, "VALIDATION_ERROR", queryMsg))
        #expect(b.askRaw(["id": 8, "type": "store.subscribe", "query": ""]) == wireError(8, "VALIDATION_ERROR", queryMsg))
        #expect(b.askRaw(["id": 9, "type": "store.subscribe", "query": 1]) == wireError(9, "VALIDATION_ERROR", queryMsg))
        #expect(b.askRaw(["id": 10, "type": "store.subscribe", "query": "no-such-query"])
                == wireError(10, "QUERY_NOT_DEFINED", "Query \"no-such-query\" is not defined"))
        let subMsg = "Missing or invalid \"subscriptionId\": expected non-empty string"
        #expect(b.askRaw(["id": 11, "type": "store.unsubscribe"]) == wireError(11, "VALIDATION_ERROR", subMsg))
        #expect(b.askRaw(["id": 12, "type": "store.unsubscribe", "subscriptionId": ""]) == wireError(12, "VALIDATION_ERROR", subMsg))
        #expect(b.askRaw(["id": 13, "type": "store.unsubscribe", "subscriptionId": 2]) == wireError(13, "VALIDATION_ERROR", subMsg))
        // failed subscribes do not consume ids
        #expect(b.data(["type": "store.subscribe", "query": "all-items"])["subscriptionId"] == "sub-4")
    }

    @Test func subscriptionLimits() throws {
        let server = start { $0.connectionLimits = ConnectionLimits(maxSubscriptionsPerConnection: 2, maxTotalSubscriptions: 3) }
        defer { server.stop() }
        let a = try WireStoreClient(server)
        #expect(a.data(["type": "store.subscribe", "query": "all-items"])["subscriptionId"] == "sub-1")
        #expect(a.data(["type": "store.subscribe", "query": "all-items"])["subscriptionId"] == "sub-2")
        #expect(a.askRaw(["id": 1, "type": "store.subscribe", "query": "all-items"])
                == wireError(1, "RATE_LIMITED", "Subscription limit reached (max 2 per connection)"))
        // checked before validation and before the query lookup
        #expect(a.askRaw(["id": 2, "type": "store.subscribe"]) == wireError(2, "RATE_LIMITED", "Subscription limit reached (max 2 per connection)"))
        #expect(a.askRaw(["id": 3, "type": "store.subscribe", "query": "ghost"])
                == wireError(3, "RATE_LIMITED", "Subscription limit reached (max 2 per connection)"))
        var b: WireStoreClient? = try WireStoreClient(server)
        #expect(b?.data(["type": "store.subscribe", "query": "all-items"])["subscriptionId"] == "sub-3")
        #expect(b?.askRaw(["id": 1, "type": "store.subscribe", "query": "all-items"])
                == wireError(1, "RATE_LIMITED", "Global subscription limit reached (max 3)"))
        // unsubscribing frees a slot immediately
        #expect(a.data(["type": "store.unsubscribe", "subscriptionId": "sub-1"]) == ["unsubscribed": true])
        #expect(b?.data(["type": "store.subscribe", "query": "all-items"])["subscriptionId"] == "sub-4")
        #expect(a.ask(["type": "store.subscribe", "query": "all-items"])["message"] == "Global subscription limit reached (max 3)")
        // disconnecting frees its slots (the server notices the close asynchronously: bounded retry)
        b = nil
        var answer: JSON = .null
        for _ in 0..<40 {
            answer = a.ask(["type": "store.subscribe", "query": "all-items"])
            if answer["type"] == "result" { break }
            Thread.sleep(forTimeInterval: 0.025)
        }
        #expect(answer["type"] == "result")
        #expect(answer["data"]?["subscriptionId"]?.stringValue?.hasPrefix("sub-") == true)
    }
}
