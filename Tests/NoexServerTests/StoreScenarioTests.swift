import NoexJSON
import NoexLoop
import Testing
@testable import NoexServer

/// The original's scenarios T06–T22, T34c, T35, T36 over the fake transport.
@Suite struct StoreScenarioTests {
    @Test func insertAndErrorsT06T07() {
        let c = Harness().connect()
        let r = c.ask(["id": 10, "type": "store.insert", "bucket": "users", "data": ["name": "Alice", "email": "alice@example.com"]])
        let d = r["data"]?.objectValue
        #expect(d?["name"] == "Alice" && d?["role"] == "user" && d?["_version"] == 1)
        #expect(d?["_createdAt"] == 1_795_727_215_924 && d?["_updatedAt"] == 1_795_727_215_924)
        #expect(d?["id"]?.stringValue?.count == 36)
        let v = c.ask(["id": 11, "type": "store.insert", "bucket": "users", "data": ["age": 25]])
        #expect(code(v) == "VALIDATION_ERROR" && v["details"]?.arrayValue?.first?["field"] == "name")
        #expect(code(c.ask(["id": 12, "type": "store.insert", "bucket": "nonexistent", "data": [:]])) == "BUCKET_NOT_DEFINED")
        #expect(c.call(["id": 13, "type": "store.insert", "data": [:]])
                == #"{"id":13,"type":"error","code":"VALIDATION_ERROR","message":"Missing or invalid \"bucket\": expected non-empty string"}"#)
        #expect(message(c.ask(["id": 14, "type": "store.insert", "bucket": "users"])) == "Missing or invalid \"data\": expected object")
        #expect(c.ask(["id": 15, "type": "store.insert", "bucket": "users", "data": ["name": "Ok"]])["type"] == "result")
    }

    @Test func lifecycleT08() throws {
        let c = Harness().connect()
        let key = try #require(c.data(["id": 1, "type": "store.insert", "bucket": "users", "data": ["name": "Lifecycle", "role": "user"]])["id"])
        #expect(c.data(["id": 2, "type": "store.get", "bucket": "users", "key": key])["_version"] == 1)
        let u = c.data(["id": 3, "type": "store.update", "bucket": "users", "key": key, "data": ["name": "Updated", "role": "admin"]])
        #expect(u["name"] == "Updated" && u["role"] == "admin" && u["_version"] == 2)
        #expect(c.call(["id": 4, "type": "store.delete", "bucket": "users", "key": key]) == #"{"id":4,"type":"result","data":{"deleted":true}}"#)
        #expect(c.call(["id": 5, "type": "store.get", "bucket": "users", "key": key]) == #"{"id":5,"type":"result","data":null}"#)
        #expect(message(c.ask(["id": 6, "type": "store.get", "bucket": "users"])) == "Missing \"key\": expected non-null value")
        #expect(c.data(["id": 7, "type": "store.delete", "bucket": "users", "key": "nope"]) == ["deleted": true])
        // docs/protocol/deviations.md item 3: update of a missing record is NOT_FOUND (the original says INTERNAL_ERROR).
        let missing = c.ask(["id": 8, "type": "store.update", "bucket": "users", "key": "nope", "data": ["name": "x"]])
        #expect(code(missing) == "NOT_FOUND")
        #expect(message(missing) == "Record with key \"nope\" not found in bucket \"users\"")
    }

    @Test func readsT09T10T11T12() throws {
        let c = Harness().connect()
        for (name, role) in [("A", "admin"), ("B", "user"), ("C", "admin")] {
            c.call(["id": 1, "type": "store.insert", "bucket": "users", "data": ["name": .string(name), "role": .string(role)]])
        }
        #expect(c.data(["id": 2, "type": "store.where", "bucket": "users", "filter": ["role": "admin"]]).arrayValue?.count == 2)
        #expect(c.data(["id": 3, "type": "store.where", "bucket": "users", "filter": ["role": "nobody"]]) == [])
        #expect(message(c.ask(["id": 4, "type": "store.where", "bucket": "users"])) == "Missing or invalid \"filter\": expected object")
        #expect(c.data(["id": 5, "type": "store.findOne", "bucket": "users", "filter": ["role": "admin"]])["name"] == "A")
        #expect(c.data(["id": 6, "type": "store.findOne", "bucket": "users", "filter": ["role": "x"]]) == .null)
        #expect(c.data(["id": 7, "type": "store.count", "bucket": "users"]) == 3)
        #expect(c.data(["id": 8, "type": "store.count", "bucket": "users", "filter": ["role": "admin"]]) == 2)
        #expect(c.data(["id": 8, "type": "store.count", "bucket": "users", "filter": .null]) == 3)
        #expect(message(c.ask(["id": 8, "type": "store.count", "bucket": "users", "filter": 3])) == "Invalid \"filter\": expected object")
        #expect(c.data(["id": 9, "type": "store.count", "bucket": "products"]) == 0)
        #expect(c.data(["id": 10, "type": "store.first", "bucket": "users", "n": 2]).arrayValue?.map { $0["name"] } == ["A", "B"])
        #expect(c.data(["id": 11, "type": "store.first", "bucket": "users", "n": 100]).arrayValue?.count == 3)
        #expect(message(c.ask(["id": 12, "type": "store.first", "bucket": "users", "n": 0])) == "Missing or invalid \"n\": expected positive integer")
        #expect(c.data(["id": 13, "type": "store.last", "bucket": "users", "n": 2]).arrayValue?.map { $0["name"] } == ["B", "C"])
        // paginate
        c.call(["id": 14, "type": "store.insert", "bucket": "users", "data": ["name": "D"]])
        c.call(["id": 15, "type": "store.insert", "bucket": "users", "data": ["name": "E"]])
        let p1 = c.data(["id": 16, "type": "store.paginate", "bucket": "users", "limit": 2])
        #expect(p1["records"]?.arrayValue?.count == 2 && p1["hasMore"] == true)
        #expect(p1.objectValue?.keys == ["records", "hasMore", "nextCursor"])
        let p2 = c.data(["id": 17, "type": "store.paginate", "bucket": "users", "limit": 2, "after": p1["nextCursor"] ?? .null])
        let p3 = c.data(["id": 18, "type": "store.paginate", "bucket": "users", "limit": 2, "after": p2["nextCursor"] ?? .null])
        #expect(p2["hasMore"] == true && p3["records"]?.arrayValue?.count == 1 && p3["hasMore"] == false && p3["nextCursor"] != nil)
        #expect(message(c.ask(["id": 19, "type": "store.paginate", "bucket": "users"])) == "Missing or invalid \"limit\": expected positive integer")
        // aggregates
        for (price, stock) in [(5, 100), (50, 10), (0, 100)] {
            c.call(["id": 20, "type": "store.insert", "bucket": "products", "data": ["title": "t", "price": .int(Int64(price)), "stock": .int(Int64(stock))]])
        }
        #expect(c.call(["id": 21, "type": "store.sum", "bucket": "products", "field": "price"]) == #"{"id":21,"type":"result","data":55}"#)
        #expect(c.data(["id": 22, "type": "store.sum", "bucket": "products", "field": "price", "filter": ["stock": 100]]) == 5)
        #expect(c.data(["id": 23, "type": "store.min", "bucket": "products", "field": "price"]) == 0)
        #expect(c.data(["id": 24, "type": "store.max", "bucket": "products", "field": "price"]) == 50)
        #expect(c.call(["id": 25, "type": "store.avg", "bucket": "products", "field": "stock"]) == #"{"id":25,"type":"result","data":70}"#)
        #expect(message(c.ask(["id": 26, "type": "store.sum", "bucket": "products"])) == "Missing or invalid \"field\": expected non-empty string")
        c.call(["id": 27, "type": "store.clear", "bucket": "products"])
        #expect(c.call(["id": 28, "type": "store.min", "bucket": "products", "field": "price"]) == #"{"id":28,"type":"result","data":null}"#)
        // buckets & stats
        #expect(c.data(["id": 29, "type": "store.buckets"]) == ["count": 2, "names": ["users", "products"]])
        let stats = c.data(["id": 30, "type": "store.stats"])
        #expect(stats["records"]?["total"] == 5 && stats["buckets"]?["count"] == 2)
    }

    @Test func subscriptionsT13T14T15T16() throws {
        let c = Harness().connect()
        _ = c.take()
        #expect(c.call(["id": 20, "type": "store.subscribe", "query": "all-users"]) == #"{"id":20,"type":"result","data":{"subscriptionId":"sub-1","data":[]}}"#)
        #expect(c.take().isEmpty)  // no initial push
        let insert: JSON = ["id": 21, "type": "store.insert", "bucket": "users", "data": ["name": "Bob"]]
        c.sendRaw(insert.jsonString)
        let frames = c.takeJSON()
        #expect(frames.count == 2)
        #expect(frames.first?["id"] == 21)  // the answer goes before the push it caused
        #expect(frames.last?["type"] == "push" && frames.last?["channel"] == "subscription" && frames.last?["subscriptionId"] == "sub-1")
        #expect(frames.last?["data"]?.arrayValue?.first?["name"] == "Bob")
        #expect(c.harness.transport.kinds[c.id]?.last == .coalescingPush(key: 1))
        let key = try #require(frames.first?["data"]?["id"])
        c.call(["id": 22, "type": "store.update", "bucket": "users", "key": key, "data": ["name": "Bobby"]])
        #expect(c.pushes().first?["data"]?.arrayValue?.first?["name"] == "Bobby")
        c.call(["id": 23, "type": "store.delete", "bucket": "users", "key": key])
        #expect(c.pushes().first?["data"] == [])
        // params and de-duplication (T14)
        c.call(["id": 24, "type": "store.insert", "bucket": "users", "data": ["name": "Admin", "role": "admin"]])
        _ = c.take()
        let byRole = c.data(["id": 25, "type": "store.subscribe", "query": "users-by-role", "params": ["role": "admin"]])
        #expect(byRole["subscriptionId"] == "sub-2" && byRole["data"]?.arrayValue?.count == 1)
        c.call(["id": 26, "type": "store.insert", "bucket": "users", "data": ["name": "Regular", "role": "user"]])
        #expect(c.pushes().map { $0["subscriptionId"] } == ["sub-1"])  // sub-2's result did not change
        c.call(["id": 27, "type": "store.insert", "bucket": "users", "data": ["name": "AdminUser", "role": "admin"]])
        #expect(c.pushes().first { $0["subscriptionId"] == "sub-2" }?["data"]?.arrayValue?.count == 2)
        #expect(code(c.ask(["id": 28, "type": "store.subscribe", "query": "nope"])) == "QUERY_NOT_DEFINED")
        #expect(message(c.ask(["id": 29, "type": "store.subscribe"])) == "Missing or invalid \"query\": expected non-empty string")
        // scalar (T15)
        #expect(c.data(["id": 30, "type": "store.subscribe", "query": "user-count"])["data"] == 3)
        c.call(["id": 31, "type": "store.insert", "bucket": "users", "data": ["name": "N"]])
        #expect(c.pushes().first { $0["subscriptionId"] == "sub-3" }?["data"] == 4)
        // unsubscribe (T16)
        #expect(c.data(["id": 32, "type": "store.unsubscribe", "subscriptionId": "sub-1"]) == ["unsubscribed": true])
        c.call(["id": 33, "type": "store.insert", "bucket": "users", "data": ["name": "M"]])
        #expect(!c.pushes().contains { $0["subscriptionId"] == "sub-1" })
        #expect(c.call(["id": 34, "type": "store.unsubscribe", "subscriptionId": "sub-1"]) == #"{"id":34,"type":"error","code":"NOT_FOUND","message":"Subscription \"sub-1\" not found"}"#)
        #expect(code(c.ask(["id": 35, "type": "store.unsubscribe"])) == "VALIDATION_ERROR")
    }

    @Test func multiClientAndCleanupT17() {
        let h = Harness()
        let c1 = h.connect()
        let c2 = h.connect()
        #expect(c1.data(["id": 1, "type": "store.subscribe", "query": "all-users"])["subscriptionId"] == "sub-1")
        #expect(c2.data(["id": 1, "type": "store.subscribe", "query": "user-count"])["subscriptionId"] == "sub-2")
        c2.call(["id": 2, "type": "store.insert", "bucket": "users", "data": ["name": "X"]])
        #expect(c1.pushes().map { $0["subscriptionId"] } == ["sub-1"])
        #expect(c2.pushes().map { $0["data"] } == [1])
        c1.disconnect()
        c2.call(["id": 3, "type": "store.insert", "bucket": "users", "data": ["name": "Y"]])
        #expect(c2.pushes().map { $0["data"] } == [2])
        let stats = c2.data(["id": 4, "type": "server.stats"])
        #expect(stats["connections"] == ["active": 1, "authenticated": 0, "totalStoreSubscriptions": 1, "totalRulesSubscriptions": 0])
        #expect(h.store.subscriptionCount == 1)
    }

    @Test func subscriptionLimitsT18T19() {
        let h = Harness { $0.connectionLimits = ConnectionLimits(maxSubscriptionsPerConnection: 3, maxTotalSubscriptions: 4) }
        let c1 = h.connect()
        for i in 1...3 { #expect(c1.ask(["id": .int(Int64(i)), "type": "store.subscribe", "query": "all-users"])["type"] == "result") }
        #expect(c1.call(["id": 4, "type": "store.subscribe", "query": "all-users"])
                == #"{"id":4,"type":"error","code":"RATE_LIMITED","message":"Subscription limit reached (max 3 per connection)"}"#)
        // limits are checked before validation
        #expect(code(c1.ask(["id": 5, "type": "store.subscribe"])) == "RATE_LIMITED")
        let c2 = h.connect()
        #expect(c2.ask(["id": 1, "type": "store.subscribe", "query": "all-users"])["type"] == "result")
        #expect(message(c2.ask(["id": 2, "type": "store.subscribe", "query": "all-users"])) == "Global subscription limit reached (max 4)")
        c1.disconnect()
        #expect(c2.ask(["id": 3, "type": "store.subscribe", "query": "all-users"])["type"] == "result")
    }

    @Test func transactionsT20T21T22() throws {
        let c = Harness().connect()
        #expect(c.data(["id": 1, "type": "store.subscribe", "query": "all-users"])["data"] == [])
        let r = c.data(["id": 30, "type": "store.transaction", "operations": [
            ["op": "insert", "bucket": "users", "data": ["name": "Alice", "role": "admin"]],
            ["op": "insert", "bucket": "users", "data": ["name": "Bob"]],
            ["op": "count", "bucket": "users"],
            ["op": "where", "bucket": "users", "filter": ["role": "admin"]],
            ["op": "get", "bucket": "users", "key": "missing"],
            ["op": "delete", "bucket": "users", "key": "missing"],
        ]])
        let results = try #require(r["results"]?.arrayValue)
        #expect(results.map { $0.objectValue?.keys ?? [] }.allSatisfy { $0 == ["index", "data"] })
        #expect(results[0]["data"]?["name"] == "Alice" && results[2]["data"] == 2 && results[3]["data"]?.arrayValue?.count == 1)
        #expect(results[4]["data"] == .null && results[5]["data"] == ["deleted": true])
        #expect(c.pushes().last?["data"]?.arrayValue?.count == 2)  // one push after commit
        let p = try #require(c.data(["id": 31, "type": "store.insert", "bucket": "products", "data": ["title": "Widget", "price": 10, "stock": 5]])["id"])
        let rb = c.ask(["id": 32, "type": "store.transaction", "operations": [
            ["op": "update", "bucket": "products", "key": p, "data": ["stock": 4]], ["op": "insert", "bucket": "users", "data": [:]],
        ]])
        #expect(code(rb) == "VALIDATION_ERROR")
        #expect(c.data(["id": 33, "type": "store.get", "bucket": "products", "key": p])["stock"] == 5)
        func msg(_ ops: JSON?) -> String? {
            var req: JSONObject = ["id": 40, "type": "store.transaction"]
            if let ops { req["operations"] = ops }
            return message(c.ask(.object(req)))
        }
        #expect(msg(nil) == "Missing or invalid \"operations\": expected array")
        #expect(msg("x") == "Missing or invalid \"operations\": expected array")
        #expect(msg([]) == "\"operations\" must contain at least one operation")
        #expect(msg([["op": "nonexistent", "bucket": "users"]]) == "operations[0]: invalid \"op\" — expected one of: get, insert, update, delete, where, findOne, count")
        #expect(msg([["op": "insert", "data": [:]]]) == "operations[0]: missing or invalid \"bucket\"")
        #expect(msg([["op": "count", "bucket": "users"], ["op": "get", "bucket": "users"]]) == "operations[1]: \"get\" requires \"key\"")
        #expect(msg([["op": "insert", "bucket": "users"]]) == "operations[0]: \"insert\" requires \"data\" object")
        #expect(msg([["op": "where", "bucket": "users"]]) == "operations[0]: \"where\" requires \"filter\" object")
        #expect(msg(["x"]) == "operations[0]: expected object")
        // docs/protocol/deviations.md item 3: an unknown bucket in a transaction is BUCKET_NOT_DEFINED (the original: INTERNAL_ERROR).
        #expect(code(c.ask(["id": 41, "type": "store.transaction", "operations": [["op": "insert", "bucket": "nonexistent", "data": [:]]]])) == "BUCKET_NOT_DEFINED")
    }

    @Test func errorDetailsCanBeHiddenT34c() {
        let hidden = Harness { $0.exposeErrorDetails = false }.connect()
        let e = hidden.ask(["id": 1, "type": "store.insert", "bucket": "users", "data": ["age": 1]])
        #expect(code(e) == "VALIDATION_ERROR" && message(e) != nil && e["details"] == nil)
        let shown = Harness().connect()
        #expect(shown.ask(["id": 1, "type": "store.insert", "bucket": "users", "data": ["age": 1]])["details"]?.arrayValue != nil)
    }

    @Test func adminStoreOpsT35() {
        let c = Harness().connect()
        let config: JSON = ["key": "id", "schema": ["id": ["type": "string", "generated": "uuid"], "title": ["type": "string", "required": true]], "indexes": ["title"]]
        #expect(c.call(["id": 1, "type": "store.defineBucket", "name": "posts", "config": config]) == #"{"id":1,"type":"result","data":{"name":"posts","created":true}}"#)
        #expect(c.ask(["id": 2, "type": "store.insert", "bucket": "posts", "data": ["title": "Hello"]])["type"] == "result")
        #expect(code(c.ask(["id": 3, "type": "store.defineBucket", "name": "posts", "config": config])) == "ALREADY_EXISTS")
        #expect(message(c.ask(["id": 4, "type": "store.defineBucket", "config": config])) == "Missing or invalid \"name\": expected non-empty string")
        #expect(message(c.ask(["id": 5, "type": "store.defineBucket", "name": "x"])) == "Missing or invalid \"config\": expected object")
        let schema = c.data(["id": 6, "type": "store.getBucketSchema", "name": "posts"])
        #expect(schema["name"] == "posts" && schema["config"]?["key"] == "id" && schema["config"]?["indexes"] == ["title"])
        #expect(c.data(["id": 7, "type": "store.updateBucket", "name": "posts", "updates": ["addFields": ["body": ["type": "string"]], "addIndexes": ["body"]]])
                == ["name": "posts", "updated": true])
        #expect(c.data(["id": 8, "type": "store.count", "bucket": "posts"]) == 1)
        #expect(c.data(["id": 9, "type": "store.dropBucket", "name": "posts"]) == ["name": "posts", "dropped": true])
        #expect(code(c.ask(["id": 10, "type": "store.insert", "bucket": "posts", "data": ["title": "x"]])) == "BUCKET_NOT_DEFINED")
        for type in ["store.dropBucket", "store.getBucketSchema"] {
            #expect(c.call(["id": 11, "type": .string(type), "name": "ghost"]) == #"{"id":11,"type":"error","code":"BUCKET_NOT_DEFINED","message":"Bucket \"ghost\" does not exist"}"#)
        }
        #expect(code(c.ask(["id": 12, "type": "store.updateBucket", "name": "ghost", "updates": [:]])) == "BUCKET_NOT_DEFINED")
    }

    @Test func declarativeQueriesT36() {
        let c = Harness(fixtureQ: false).connect()
        c.call(["id": 1, "type": "store.updateBucket", "name": "users", "updates": ["addFields": ["active": ["type": "boolean"]]]])
        c.call(["id": 2, "type": "store.insert", "bucket": "users", "data": ["name": "Zed", "active": true, "role": "admin"]])
        #expect(c.data(["id": 3, "type": "store.defineQuery", "name": "active-users", "config": ["bucket": "users", "filter": ["active": true], "sort": ["name": "asc"]]])
                == ["name": "active-users", "defined": true])
        #expect(c.data(["id": 4, "type": "store.subscribe", "query": "active-users"])["data"]?.arrayValue?.count == 1)
        c.call(["id": 5, "type": "store.insert", "bucket": "users", "data": ["name": "Amy", "active": true]])
        #expect(c.pushes().first?["data"]?.arrayValue?.map { $0["name"] } == ["Amy", "Zed"])
        c.call(["id": 6, "type": "store.defineQuery", "name": "names", "config": ["bucket": "users", "fields": ["name", "role"]]])
        #expect(c.data(["id": 7, "type": "store.subscribe", "query": "names"])["data"]?.arrayValue?.first == ["name": "Zed", "role": "admin"])
        c.call(["id": 8, "type": "store.defineQuery", "name": "n", "config": ["bucket": "users", "aggregate": ["function": "count"]]])
        #expect(c.data(["id": 9, "type": "store.subscribe", "query": "n"])["data"] == 2)
        c.call(["id": 10, "type": "store.defineQuery", "name": "by-role", "config": ["bucket": "users", "filter": ["role": "{{ params.role }}"]]])
        #expect(c.data(["id": 11, "type": "store.subscribe", "query": "by-role", "params": ["role": "admin"]])["data"]?.arrayValue?.count == 1)
        #expect(code(c.ask(["id": 12, "type": "store.defineQuery", "name": "n", "config": ["bucket": "users"]])) == "ALREADY_EXISTS")
        #expect(code(c.ask(["id": 13, "type": "store.defineQuery", "name": "g", "config": ["bucket": "ghost"]])) == "BUCKET_NOT_DEFINED")
        let list = c.data(["id": 14, "type": "store.listQueries"])["queries"]?.arrayValue ?? []
        #expect(list.first?["name"] == "active-users" && list.first?["type"] == "declarative" && list.first?["config"]?["bucket"] == "users")
        #expect(c.data(["id": 15, "type": "store.undefineQuery", "name": "n"]) == ["name": "n", "undefined": true])
        #expect(code(c.ask(["id": 16, "type": "store.subscribe", "query": "n"])) == "QUERY_NOT_DEFINED")
        #expect(c.call(["id": 17, "type": "store.undefineQuery", "name": "n"]) == #"{"id":17,"type":"error","code":"QUERY_NOT_DEFINED","message":"Query \"n\" is not defined"}"#)
    }

    @Test func responsesOverTheHardLimitBecomeBackpressure() {
        let h = Harness { $0.backpressure = BackpressureConfig(maxBufferedBytes: 1000, highWaterMark: 0.5) }
        let c = h.connect()
        _ = c.take()
        h.transport.buffered[c.id] = 990
        #expect(c.call(["id": 1, "type": "store.buckets"]) == #"{"id":1,"type":"error","code":"BACKPRESSURE","message":"Write buffer full, slow down"}"#)
        h.transport.buffered[c.id] = 0
        #expect(c.ask(["id": 2, "type": "store.buckets"])["type"] == "result")
    }
}

@Suite struct StatsTests {
    @Test func getStatsHasTheFieldsOfSection12() {
        let h = Harness { $0.name = "stats-server"; $0.rateLimit = RateLimitConfig(maxRequests: 5, windowMs: 1000) }
        let c = h.connect()
        c.call(["id": 1, "type": "store.subscribe", "query": "all-users"])
        let s = h.core.statsJSON(includeListener: true, port: 4321, uptimeMs: 77)
        #expect(s.objectValue?.keys == ["name", "port", "host", "connectionCount", "uptimeMs", "authEnabled", "rateLimitEnabled",
                                        "rulesEnabled", "connections", "store", "rules", "pushes"])  // + our pushes counters
        #expect(s["pushes"] == ["sent": 0, "dropped": 0])
        #expect(s["name"] == "stats-server" && s["port"] == 4321 && s["host"] == "127.0.0.1" && s["uptimeMs"] == 77)
        #expect(s["rateLimitEnabled"] == true && s["authEnabled"] == false && s["rulesEnabled"] == false)
        #expect(s["connections"] == ["active": 1, "authenticated": 0, "totalStoreSubscriptions": 1, "totalRulesSubscriptions": 0])
        #expect(s["store"]?["queries"]?["activeSubscriptions"] == 1)
        #expect(h.core.connectionInfos() == [[
            "connectionId": "conn-1", "remoteAddress": "127.0.0.1", "connectedAt": 1_795_727_215_924, "authenticated": false,
            "userId": .null, "roles": [], "storeSubscriptionCount": 1, "rulesSubscriptionCount": 0,
        ]])
    }

    @Test func sweepPrunesRateLimitWindows() {
        let h = Harness { $0.rateLimit = RateLimitConfig(maxRequests: 5, windowMs: 100) }
        let c = h.connect()
        c.call(["id": 1, "type": "store.buckets"])
        #expect(h.core.rateLimiter?.trackedKeys == 1)
        h.clock.advance(150)
        h.core.sweep()
        #expect(h.core.rateLimiter?.trackedKeys == 0)
    }
}
