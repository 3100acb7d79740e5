import Foundation
import NoexJSON
import NoexStore
import Testing
@testable import NoexServer

/// `store.*` admin operations (docs/protocol/store-operations.md) over real sockets.
@Suite struct WireStoreAdminTests {
    private func start() -> ServerThread { ServerThread { ServerConfig(store: wireStoreFixture()) } }

    private let postsConfig: JSON = [
        "key": "id",
        "schema": ["id": ["type": "string", "required": true], "title": ["type": "string", "required": true]],
        "indexes": ["title"],
    ]

    @Test func bucketLifecycle() throws {
        let server = start()
        defer { server.stop() }
        let c = try WireStoreClient(server)
        let b = try WireStoreClient(server)
        #expect(c.askRaw(["id": 1, "type": "store.defineBucket", "name": "posts", "config": postsConfig])
                == #"{"id":1,"type":"result","data":{"name":"posts","created":true}}"#)
        #expect(c.data(["type": "store.insert", "bucket": "posts", "data": ["id": "p1", "title": "Hello"]])["title"] == "Hello")
        #expect(c.askRaw(["id": 2, "type": "store.defineBucket", "name": "posts", "config": postsConfig])
                == wireError(2, "ALREADY_EXISTS", "Bucket \"posts\" already exists"))
        let nameMsg = "Missing or invalid \"name\": expected non-empty string"
        #expect(c.askRaw(["id": 3, "type": "store.defineBucket", "config": postsConfig]) == wireError(3, "VALIDATION_ERROR", nameMsg))
        #expect(c.askRaw(["id": 4, "type": "store.defineBucket", "name": "", "config": postsConfig]) == wireError(4, "VALIDATION_ERROR", nameMsg))
        #expect(c.askRaw(["id": 5, "type": "store.defineBucket", "name": "x"])
                == wireError(5, "VALIDATION_ERROR", "Missing or invalid \"config\": expected object"))
        #expect(c.askRaw(["id": 6, "type": "store.defineBucket", "name": "x", "config": [postsConfig]])
                == wireError(6, "VALIDATION_ERROR", "Missing or invalid \"config\": expected object"))
        // invalid definitions: INTERNAL_ERROR with the library message, nothing defined
        let badKey = c.ask(["id": 7, "type": "store.defineBucket", "name": "bad", "config": ["key": "nope", "schema": ["a": ["type": "string"]]]])
        #expect(badKey["code"] == "INTERNAL_ERROR" && (badKey["message"]?.stringValue?.isEmpty == false) && badKey["details"] == nil)
        let badIndex = c.ask(["id": 8, "type": "store.defineBucket", "name": "bad", "config": ["key": "a", "schema": ["a": ["type": "string"]], "indexes": ["zz"]]])
        #expect(badIndex["code"] == "INTERNAL_ERROR")
        #expect(c.askRaw(["id": 9, "type": "store.getBucketSchema", "name": "bad"]) == wireError(9, "BUCKET_NOT_DEFINED", "Bucket \"bad\" does not exist"))

        // getBucketSchema
        let schema = c.ask(["id": 10, "type": "store.getBucketSchema", "name": "posts"])
        #expect(schema["type"] == "result" && schema["data"]?.objectValue?.keys == ["name", "config"])
        #expect(schema["data"]?["name"] == "posts")
        let stored = try #require(schema["data"]?["config"])
        #expect(stored["key"] == "id" && stored["indexes"] == ["title"] && stored["schema"]?["title"]?["required"] == true)
        #expect(c.askRaw(["id": 11, "type": "store.getBucketSchema"]) == wireError(11, "VALIDATION_ERROR", nameMsg))

        // updateBucket: records kept, new field validated, new index
        #expect(c.askRaw(["id": 12, "type": "store.updateBucket", "name": "posts", "updates": ["addFields": ["likes": ["type": "number", "default": 0]], "addIndexes": ["likes"]]])
                == #"{"id":12,"type":"result","data":{"name":"posts","updated":true}}"#)
        #expect(c.data(["type": "store.get", "bucket": "posts", "key": "p1"])["title"] == "Hello")
        #expect(c.data(["type": "store.insert", "bucket": "posts", "data": ["id": "p2", "title": "T"]])["likes"] == 0)
        #expect(c.ask(["type": "store.insert", "bucket": "posts", "data": ["id": "p3", "title": "T", "likes": "x"]])["code"] == "VALIDATION_ERROR")
        #expect(c.data(["type": "store.getBucketSchema", "name": "posts"])["config"]?["schema"]?["likes"] != nil)
        #expect(c.askRaw(["id": 13, "type": "store.updateBucket", "name": "posts"])
                == wireError(13, "VALIDATION_ERROR", "Missing or invalid \"updates\": expected object"))
        #expect(c.askRaw(["id": 14, "type": "store.updateBucket", "updates": [:]]) == wireError(14, "VALIDATION_ERROR", nameMsg))
        #expect(c.askRaw(["id": 15, "type": "store.updateBucket", "name": "ghost", "updates": [:]])
                == wireError(15, "BUCKET_NOT_DEFINED", "Bucket \"ghost\" does not exist"))
        #expect(c.ask(["id": 16, "type": "store.updateBucket", "name": "posts", "updates": ["addFields": ["title": ["type": "string"]]]])["code"] == "INTERNAL_ERROR")
        #expect(c.ask(["id": 17, "type": "store.updateBucket", "name": "posts", "updates": ["addIndexes": ["nope"]]])["code"] == "INTERNAL_ERROR")

        // dropBucket silently ends dependent subscriptions; the entry can still be unsubscribed
        #expect(c.data(["type": "store.defineQuery", "name": "all-posts", "config": ["bucket": "posts"]]) == ["name": "all-posts", "defined": true])
        let sub = b.data(["type": "store.subscribe", "query": "all-posts"])
        #expect(sub["data"]?.arrayValue?.count == 2)
        #expect(c.askRaw(["id": 18, "type": "store.dropBucket", "name": "posts"]) == #"{"id":18,"type":"result","data":{"name":"posts","dropped":true}}"#)
        #expect(b.noPush(withinMs: 200))
        #expect(b.data(["type": "store.unsubscribe", "subscriptionId": sub["subscriptionId"] ?? .null]) == ["unsubscribed": true])
        #expect(c.askRaw(["id": 19, "type": "store.insert", "bucket": "posts", "data": ["id": "p9", "title": "x"]])
                == wireError(19, "BUCKET_NOT_DEFINED", "Bucket \"posts\" is not defined"))
        #expect(c.askRaw(["id": 20, "type": "store.dropBucket", "name": "posts"]) == wireError(20, "BUCKET_NOT_DEFINED", "Bucket \"posts\" does not exist"))
        #expect(c.askRaw(["id": 21, "type": "store.dropBucket"]) == wireError(21, "VALIDATION_ERROR", nameMsg))
        #expect(c.askRaw(["id": 22, "type": "store.getBucketSchema", "name": "posts"]) == wireError(22, "BUCKET_NOT_DEFINED", "Bucket \"posts\" does not exist"))
        #expect(c.data(["type": "store.buckets"])["names"] == ["users", "products", "orders", "logs", "items"])
        // the name can be reused
        #expect(c.data(["type": "store.defineBucket", "name": "posts", "config": postsConfig]) == ["name": "posts", "created": true])
        #expect(c.data(["type": "store.count", "bucket": "posts"]) == 0)
    }

    @Test func queryLifecycle() throws {
        let server = ServerThread {
            let store = Store(name: "q", nowMs: ServerClock.systemWallMs)
            try! store.defineBucket("items", config: ["key": "sku", "schema": ["sku": ["type": "string"], "qty": ["type": "number"]]])
            return ServerConfig(store: store)
        }
        defer { server.stop() }
        let c = try WireStoreClient(server)
        let b = try WireStoreClient(server)
        #expect(c.askRaw(["id": 1, "type": "store.listQueries"]) == #"{"id":1,"type":"result","data":{"queries":[]}}"#)
        let config: JSON = ["bucket": "items", "filter": ["qty": ["$gt": 1]], "sort": ["qty": "desc"], "fields": ["sku"]]
        #expect(c.askRaw(["id": 2, "type": "store.defineQuery", "name": "big", "config": config])
                == #"{"id":2,"type":"result","data":{"name":"big","defined":true}}"#)
        #expect(c.data(["type": "store.defineQuery", "name": "total", "config": ["bucket": "items", "aggregate": ["function": "sum", "field": "qty"]]])
                == ["name": "total", "defined": true])
        #expect(c.data(["type": "store.insert", "bucket": "items", "data": ["sku": "a", "qty": 2]])["sku"] == "a")
        #expect(b.data(["type": "store.subscribe", "query": "big"]) == ["subscriptionId": "sub-1", "data": [["sku": "a"]]])
        #expect(b.data(["type": "store.subscribe", "query": "total"]) == ["subscriptionId": "sub-2", "data": 2])
        #expect(c.data(["type": "store.insert", "bucket": "items", "data": ["sku": "b", "qty": 5]])["sku"] == "b")
        var pushes: [String: JSON] = [:]
        for _ in 0..<2 {
            let p = try #require(b.nextPush())
            pushes[p["subscriptionId"]?.stringValue ?? "?"] = p["data"]
        }
        #expect(pushes == ["sub-1": [["sku": "b"], ["sku": "a"]], "sub-2": 7])

        #expect(c.ask(["id": 3, "type": "store.listQueries"]) == ["id": 3, "type": "result", "data": ["queries": [
            ["name": "big", "type": "declarative", "activeSubscriptions": 1, "config": config],
            ["name": "total", "type": "declarative", "activeSubscriptions": 1, "config": ["bucket": "items", "aggregate": ["function": "sum", "field": "qty"]]],
        ]]])

        // errors
        let dup = c.ask(["id": 4, "type": "store.defineQuery", "name": "big", "config": ["bucket": "items"]])
        #expect(dup == ["id": 4, "type": "error", "code": "ALREADY_EXISTS", "message": "Query \"big\" is already defined"])
        #expect(c.askRaw(["id": 5, "type": "store.defineQuery", "name": "g", "config": ["bucket": "ghost"]])
                == wireError(5, "BUCKET_NOT_DEFINED", "Bucket \"ghost\" is not defined"))
        let nameMsg = "Missing or invalid \"name\": expected non-empty string"
        #expect(c.askRaw(["id": 6, "type": "store.defineQuery", "config": ["bucket": "items"]]) == wireError(6, "VALIDATION_ERROR", nameMsg))
        #expect(c.askRaw(["id": 7, "type": "store.defineQuery", "name": "q"])
                == wireError(7, "VALIDATION_ERROR", "Missing or invalid \"config\": expected object"))
        #expect(c.askRaw(["id": 8, "type": "store.defineQuery", "name": "q", "config": "items"])
                == wireError(8, "VALIDATION_ERROR", "Missing or invalid \"config\": expected object"))
        #expect(c.askRaw(["id": 9, "type": "store.undefineQuery"]) == wireError(9, "VALIDATION_ERROR", nameMsg))

        // undefine: subscriptions end silently, the entry can still be unsubscribed
        #expect(c.askRaw(["id": 10, "type": "store.undefineQuery", "name": "total"])
                == #"{"id":10,"type":"result","data":{"name":"total","undefined":true}}"#)
        #expect(c.data(["type": "store.insert", "bucket": "items", "data": ["sku": "c", "qty": 1]])["sku"] == "c")
        #expect(b.noPush(withinMs: 250))  // "big" unchanged (qty 1), "total" gone
        #expect(c.askRaw(["id": 11, "type": "store.undefineQuery", "name": "total"])
                == wireError(11, "QUERY_NOT_DEFINED", "Query \"total\" is not defined"))
        #expect(b.askRaw(["id": 12, "type": "store.subscribe", "query": "total"])
                == wireError(12, "QUERY_NOT_DEFINED", "Query \"total\" is not defined"))
        #expect(b.data(["type": "store.unsubscribe", "subscriptionId": "sub-2"]) == ["unsubscribed": true])
        #expect(c.data(["type": "store.listQueries"])["queries"]?.arrayValue?.map { $0["name"] } == ["big"])
    }
}
