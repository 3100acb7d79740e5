import Foundation
import NoexJSON
import NoexStore
import Testing
@testable import NoexServer

/// `store.*` data operations (docs/protocol/store-operations.md) over a real socket, each with its exact answer and
/// every error it can produce. Each test runs its own server on 127.0.0.1 port 0.
@Suite struct WireStoreDataTests {
    private func start() -> ServerThread { ServerThread { ServerConfig(store: wireStoreFixture()) } }

    @Test func insertAndGet() throws {
        let server = start()
        defer { server.stop() }
        let c = try WireStoreClient(server)
        let inserted = c.ask(["id": 1, "type": "store.insert", "bucket": "items", "data": ["sku": "a1", "name": "Apple"]])
        #expect(inserted.objectValue?.keys == ["id", "type", "data"])
        #expect(inserted["id"] == 1 && inserted["type"] == "result")
        #expect(wireStable(inserted["data"]) == wireItem("a1", "Apple"))
        let record = try #require(inserted["data"]?.objectValue)
        #expect(Array(record.keys.suffix(3)) == ["_version", "_createdAt", "_updatedAt"])
        #expect(record["_createdAt"] == record["_updatedAt"])
        // generated keys on the demo bucket: a UUID, defaults filled in
        let user = c.data(["type": "store.insert", "bucket": "users", "data": ["name": "Alice"]])
        #expect(user["id"]?.stringValue?.count == 36 && user["role"] == "user" && user["credits"] == 0 && user["_version"] == 1)

        #expect(c.ask(["type": "store.get", "bucket": "items", "key": "a1"])["data"] == inserted["data"])
        #expect(c.askRaw(["id": 2, "type": "store.get", "bucket": "items", "key": "zz"]) == #"{"id":2,"type":"result","data":null}"#)

        // insert errors
        #expect(c.askRaw(["id": 3, "type": "store.insert", "data": ["sku": "x"]])
                == wireError(3, "VALIDATION_ERROR", "Missing or invalid \"bucket\": expected non-empty string"))
        #expect(c.askRaw(["id": 4, "type": "store.insert", "bucket": "", "data": ["sku": "x"]])
                == wireError(4, "VALIDATION_ERROR", "Missing or invalid \"bucket\": expected non-empty string"))
        #expect(c.askRaw(["id": 5, "type": "store.insert", "bucket": 7, "data": ["sku": "x"]])
                == wireError(5, "VALIDATION_ERROR", "Missing or invalid \"bucket\": expected non-empty string"))
        #expect(c.askRaw(["id": 6, "type": "store.insert", "bucket": "items"])
                == wireError(6, "VALIDATION_ERROR", "Missing or invalid \"data\": expected object"))
        #expect(c.askRaw(["id": 7, "type": "store.insert", "bucket": "items", "data": [1, 2]])
                == wireError(7, "VALIDATION_ERROR", "Missing or invalid \"data\": expected object"))
        // bucket is validated before data, and both before the bucket lookup
        #expect(c.askRaw(["id": 8, "type": "store.insert", "bucket": "", "data": "x"])
                == wireError(8, "VALIDATION_ERROR", "Missing or invalid \"bucket\": expected non-empty string"))
        #expect(c.askRaw(["id": 9, "type": "store.insert", "bucket": "ghost", "data": "x"])
                == wireError(9, "VALIDATION_ERROR", "Missing or invalid \"data\": expected object"))
        #expect(c.askRaw(["id": 10, "type": "store.insert", "bucket": "ghost", "data": [:]])
                == wireError(10, "BUCKET_NOT_DEFINED", "Bucket \"ghost\" is not defined"))
        // schema violation: details = the issues
        #expect(c.ask(["id": 11, "type": "store.insert", "bucket": "items", "data": ["sku": "b1", "qty": "many"]]) == [
            "id": 11, "type": "error", "code": "VALIDATION_ERROR",
            "message": "Validation failed for bucket \"items\": name: Field is required; qty: Expected type \"number\", got string",
            "details": [["field": "name", "message": "Field is required", "code": "required"],
                        ["field": "qty", "message": "Expected type \"number\", got string", "code": "type"]],
        ])
        // duplicate key and unique field
        #expect(c.ask(["id": 12, "type": "store.insert", "bucket": "items", "data": ["sku": "a1", "name": "Again"]]) == [
            "id": 12, "type": "error", "code": "ALREADY_EXISTS",
            "message": "Record with key \"a1\" already exists in bucket \"items\"", "details": ["bucket": "items", "key": "a1"],
        ])
        #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "c1", "name": "C", "code": "X-1"]])["type"] == "result")
        #expect(c.ask(["id": 13, "type": "store.insert", "bucket": "items", "data": ["sku": "c2", "name": "D", "code": "X-1"]]) == [
            "id": 13, "type": "error", "code": "ALREADY_EXISTS",
            "message": "Unique constraint violation in bucket \"items\": field \"code\" already has value \"X-1\"",
            "details": ["bucket": "items", "field": "code", "value": "X-1"],
        ])
        #expect(c.data(["type": "store.count", "bucket": "items"]) == 2)  // failed inserts left nothing

        // get errors
        #expect(c.askRaw(["id": 14, "type": "store.get", "bucket": "items"])
                == wireError(14, "VALIDATION_ERROR", "Missing \"key\": expected non-null value"))
        #expect(c.askRaw(["id": 15, "type": "store.get", "bucket": "items", "key": .null])
                == wireError(15, "VALIDATION_ERROR", "Missing \"key\": expected non-null value"))
        #expect(c.askRaw(["id": 16, "type": "store.get", "key": "a1"])
                == wireError(16, "VALIDATION_ERROR", "Missing or invalid \"bucket\": expected non-empty string"))
        #expect(c.askRaw(["id": 17, "type": "store.get", "bucket": "ghost", "key": "a1"])
                == wireError(17, "BUCKET_NOT_DEFINED", "Bucket \"ghost\" is not defined"))
    }

    @Test func updateAndDelete() throws {
        let server = start()
        defer { server.stop() }
        let c = try WireStoreClient(server)
        #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "a1", "name": "Apple", "qty": 3]])["type"] == "result")
        let updated = c.ask(["id": 1, "type": "store.update", "bucket": "items", "key": "a1", "data": ["qty": 5]])
        #expect(updated["id"] == 1 && updated["type"] == "result")
        #expect(wireStable(updated["data"]) == wireItem("a1", "Apple", qty: 5, version: 2))
        #expect(c.data(["type": "store.get", "bucket": "items", "key": "a1"]) == updated["data"])

        // docs/protocol/deviations.md item 3: a missing record is NOT_FOUND with {bucket,key}
        #expect(c.ask(["id": 2, "type": "store.update", "bucket": "items", "key": "nope", "data": ["qty": 1]]) == [
            "id": 2, "type": "error", "code": "NOT_FOUND",
            "message": "Record with key \"nope\" not found in bucket \"items\"", "details": ["bucket": "items", "key": "nope"],
        ])
        #expect(c.askRaw(["id": 3, "type": "store.update", "bucket": "items", "data": ["qty": 1]])
                == wireError(3, "VALIDATION_ERROR", "Missing \"key\": expected non-null value"))
        #expect(c.askRaw(["id": 4, "type": "store.update", "bucket": "items", "key": "a1"])
                == wireError(4, "VALIDATION_ERROR", "Missing or invalid \"data\": expected object"))
        #expect(c.askRaw(["id": 5, "type": "store.update", "bucket": "items", "key": "a1", "data": 5])
                == wireError(5, "VALIDATION_ERROR", "Missing or invalid \"data\": expected object"))
        #expect(c.askRaw(["id": 6, "type": "store.update", "key": "a1", "data": [:]])
                == wireError(6, "VALIDATION_ERROR", "Missing or invalid \"bucket\": expected non-empty string"))
        #expect(c.askRaw(["id": 7, "type": "store.update", "bucket": "ghost", "key": "a1", "data": [:]])
                == wireError(7, "BUCKET_NOT_DEFINED", "Bucket \"ghost\" is not defined"))
        let invalid = c.ask(["id": 8, "type": "store.update", "bucket": "items", "key": "a1", "data": ["qty": "lots"]])
        #expect(invalid["code"] == "VALIDATION_ERROR")
        #expect(invalid["details"] == [["field": "qty", "message": "Expected type \"number\", got string", "code": "type"]])
        #expect(c.data(["type": "store.get", "bucket": "items", "key": "a1"])["_version"] == 2)  // unchanged

        #expect(c.askRaw(["id": 9, "type": "store.delete", "bucket": "items", "key": "a1"]) == #"{"id":9,"type":"result","data":{"deleted":true}}"#)
        #expect(c.askRaw(["id": 10, "type": "store.delete", "bucket": "items", "key": "a1"]) == #"{"id":10,"type":"result","data":{"deleted":true}}"#)
        #expect(c.data(["type": "store.get", "bucket": "items", "key": "a1"]) == .null)
        #expect(c.askRaw(["id": 11, "type": "store.delete", "bucket": "items"])
                == wireError(11, "VALIDATION_ERROR", "Missing \"key\": expected non-null value"))
        #expect(c.askRaw(["id": 12, "type": "store.delete", "bucket": "", "key": "a1"])
                == wireError(12, "VALIDATION_ERROR", "Missing or invalid \"bucket\": expected non-empty string"))
        #expect(c.askRaw(["id": 13, "type": "store.delete", "bucket": "ghost", "key": "a1"])
                == wireError(13, "BUCKET_NOT_DEFINED", "Bucket \"ghost\" is not defined"))
    }

    /// all, where, findOne, count, first, last, paginate.
    @Test func reads() throws {
        let server = start()
        defer { server.stop() }
        let c = try WireStoreClient(server)
        #expect(c.askRaw(["id": 1, "type": "store.all", "bucket": "items"]) == #"{"id":1,"type":"result","data":[]}"#)
        let rows: [(String, String, Int64)] = [("a1", "Apple", 3), ("b2", "Banana", 0), ("c3", "Cherry", 3), ("d4", "Date", 7), ("e5", "Elder", 1)]
        for (sku, name, qty) in rows {
            #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": .string(sku), "name": .string(name), "qty": .int(qty)]])["type"] == "result")
        }
        let all = rows.map { wireItem($0.0, $0.1, qty: $0.2) }
        #expect(wireStable(c.data(["type": "store.all", "bucket": "items"])) == .array(all))
        #expect(wireStable(c.data(["type": "store.where", "bucket": "items", "filter": ["qty": 3]])) == .array([all[0], all[2]]))
        #expect(c.askRaw(["id": 2, "type": "store.where", "bucket": "items", "filter": ["qty": 99]]) == #"{"id":2,"type":"result","data":[]}"#)
        #expect(wireStable(c.data(["type": "store.findOne", "bucket": "items", "filter": ["qty": 3]])) == all[0])
        #expect(c.askRaw(["id": 3, "type": "store.findOne", "bucket": "items", "filter": ["qty": 99]]) == #"{"id":3,"type":"result","data":null}"#)
        #expect(c.askRaw(["id": 4, "type": "store.count", "bucket": "items"]) == #"{"id":4,"type":"result","data":5}"#)
        #expect(c.data(["type": "store.count", "bucket": "items", "filter": ["qty": 3]]) == 2)
        #expect(c.data(["type": "store.count", "bucket": "items", "filter": .null]) == 5)
        #expect(wireStable(c.data(["type": "store.first", "bucket": "items", "n": 2])) == .array(Array(all[0..<2])))
        #expect(c.data(["type": "store.first", "bucket": "items", "n": 50]).arrayValue?.count == 5)
        #expect(wireStable(c.data(["type": "store.last", "bucket": "items", "n": 2])) == .array(Array(all[3..<5])))
        let p1 = c.data(["type": "store.paginate", "bucket": "items", "limit": 2])
        #expect(p1.objectValue?.keys == ["records", "hasMore", "nextCursor"])
        #expect(wireStable(p1["records"]) == .array(Array(all[0..<2])) && p1["hasMore"] == true && p1["nextCursor"] == "b2")
        let p2 = c.data(["type": "store.paginate", "bucket": "items", "limit": 2, "after": "b2"])
        #expect(wireStable(p2["records"]) == .array(Array(all[2..<4])) && p2["hasMore"] == true && p2["nextCursor"] == "d4")
        let p3 = c.data(["type": "store.paginate", "bucket": "items", "limit": 2, "after": "d4"])
        #expect(wireStable(p3["records"]) == .array([all[4]]) && p3["hasMore"] == false && p3["nextCursor"] == "e5")
        #expect(c.askRaw(["id": 5, "type": "store.paginate", "bucket": "items", "limit": 2, "after": "e5"])
                == #"{"id":5,"type":"result","data":{"records":[],"hasMore":false}}"#)
        #expect(c.data(["type": "store.paginate", "bucket": "items", "limit": 2, "after": "nope"])["records"] == [])

        // validation errors, exact messages
        let filterMsg = "Missing or invalid \"filter\": expected object"
        let nMsg = "Missing or invalid \"n\": expected positive integer"
        let limitMsg = "Missing or invalid \"limit\": expected positive integer"
        let cases: [(JSONObject, String)] = [
            (["type": "store.where", "bucket": "items"], filterMsg),
            (["type": "store.where", "bucket": "items", "filter": [1]], filterMsg),
            (["type": "store.where", "bucket": "items", "filter": .null], filterMsg),
            (["type": "store.findOne", "bucket": "items"], filterMsg),
            (["type": "store.findOne", "bucket": "items", "filter": "qty"], filterMsg),
            (["type": "store.count", "bucket": "items", "filter": 3], "Invalid \"filter\": expected object"),
            (["type": "store.count", "bucket": "items", "filter": []], "Invalid \"filter\": expected object"),
            (["type": "store.first", "bucket": "items"], nMsg),
            (["type": "store.first", "bucket": "items", "n": 0], nMsg),
            (["type": "store.first", "bucket": "items", "n": -1], nMsg),
            (["type": "store.first", "bucket": "items", "n": 1.5], nMsg),
            (["type": "store.first", "bucket": "items", "n": "2"], nMsg),
            (["type": "store.last", "bucket": "items"], nMsg),
            (["type": "store.last", "bucket": "items", "n": 0], nMsg),
            (["type": "store.paginate", "bucket": "items"], limitMsg),
            (["type": "store.paginate", "bucket": "items", "limit": 0], limitMsg),
            (["type": "store.paginate", "bucket": "items", "limit": 2.5], limitMsg),
        ]
        for (i, (request, msg)) in cases.enumerated() {
            var r = request
            r["id"] = .int(Int64(100 + i))
            #expect(c.askRaw(r) == wireError(Int64(100 + i), "VALIDATION_ERROR", msg), "\(request)")
        }
        // every read: bucket checked first, unknown bucket is BUCKET_NOT_DEFINED
        let extras: [String: JSONObject] = [
            "store.all": [:], "store.where": ["filter": [:]], "store.findOne": ["filter": [:]], "store.count": [:],
            "store.first": ["n": 1], "store.last": ["n": 1], "store.paginate": ["limit": 1],
        ]
        for (type, fields) in extras.sorted(by: { $0.key < $1.key }) {
            var missing = fields
            missing["type"] = .string(type)
            missing["id"] = 200
            #expect(c.askRaw(missing) == wireError(200, "VALIDATION_ERROR", "Missing or invalid \"bucket\": expected non-empty string"), "\(type)")
            var ghost = fields
            ghost["type"] = .string(type)
            ghost["bucket"] = "ghost"
            ghost["id"] = 201
            #expect(c.askRaw(ghost) == wireError(201, "BUCKET_NOT_DEFINED", "Bucket \"ghost\" is not defined"), "\(type)")
        }
    }

    /// clear, sum, avg, min, max, buckets, stats.
    @Test func aggregatesClearBucketsStats() throws {
        let server = start()
        defer { server.stop() }
        let c = try WireStoreClient(server)
        for (sku, qty) in [("a", 2), ("b", 4), ("c", 9)] {
            #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": .string(sku), "name": "n", "qty": .int(Int64(qty))]])["type"] == "result")
        }
        #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "d", "name": "half", "qty": 0.5]])["type"] == "result")
        #expect(c.askRaw(["id": 1, "type": "store.sum", "bucket": "items", "field": "qty"]) == #"{"id":1,"type":"result","data":15.5}"#)
        #expect(c.askRaw(["id": 2, "type": "store.sum", "bucket": "items", "field": "qty", "filter": ["name": "n"]]) == #"{"id":2,"type":"result","data":15}"#)
        #expect(c.askRaw(["id": 3, "type": "store.avg", "bucket": "items", "field": "qty", "filter": ["name": "n"]]) == #"{"id":3,"type":"result","data":5}"#)
        #expect(c.askRaw(["id": 4, "type": "store.min", "bucket": "items", "field": "qty"]) == #"{"id":4,"type":"result","data":0.5}"#)
        #expect(c.askRaw(["id": 5, "type": "store.max", "bucket": "items", "field": "qty"]) == #"{"id":5,"type":"result","data":9}"#)
        // non-numeric field: skipped
        #expect(c.data(["type": "store.sum", "bucket": "items", "field": "name"]) == 0)
        #expect(c.data(["type": "store.max", "bucket": "items", "field": "name"]) == .null)

        let fieldMsg = "Missing or invalid \"field\": expected non-empty string"
        var id: Int64 = 10
        for type in ["store.sum", "store.avg", "store.min", "store.max"] {
            for bad: JSON? in [nil, "", 3] {
                var r: JSONObject = ["id": .int(id), "type": .string(type), "bucket": "items"]
                if let bad { r["field"] = bad }
                #expect(c.askRaw(r) == wireError(id, "VALIDATION_ERROR", fieldMsg), "\(type) \(String(describing: bad))")
                id += 1
            }
            #expect(c.askRaw(["id": .int(id), "type": .string(type), "bucket": "items", "field": "qty", "filter": "x"])
                    == wireError(id, "VALIDATION_ERROR", "Invalid \"filter\": expected object"))
            #expect(c.askRaw(["id": .int(id + 1), "type": .string(type), "field": "qty"])
                    == wireError(id + 1, "VALIDATION_ERROR", "Missing or invalid \"bucket\": expected non-empty string"))
            #expect(c.askRaw(["id": .int(id + 2), "type": .string(type), "bucket": "ghost", "field": "qty"])
                    == wireError(id + 2, "BUCKET_NOT_DEFINED", "Bucket \"ghost\" is not defined"))
            id += 3
        }

        #expect(c.askRaw(["id": 50, "type": "store.clear", "bucket": "items"]) == #"{"id":50,"type":"result","data":{"cleared":true}}"#)
        #expect(c.data(["type": "store.count", "bucket": "items"]) == 0)
        #expect(c.askRaw(["id": 51, "type": "store.sum", "bucket": "items", "field": "qty"]) == #"{"id":51,"type":"result","data":0}"#)
        #expect(c.askRaw(["id": 52, "type": "store.avg", "bucket": "items", "field": "qty"]) == #"{"id":52,"type":"result","data":0}"#)
        #expect(c.askRaw(["id": 53, "type": "store.min", "bucket": "items", "field": "qty"]) == #"{"id":53,"type":"result","data":null}"#)
        #expect(c.askRaw(["id": 54, "type": "store.max", "bucket": "items", "field": "qty"]) == #"{"id":54,"type":"result","data":null}"#)
        #expect(c.askRaw(["id": 55, "type": "store.clear"]) == wireError(55, "VALIDATION_ERROR", "Missing or invalid \"bucket\": expected non-empty string"))
        #expect(c.askRaw(["id": 56, "type": "store.clear", "bucket": "ghost"]) == wireError(56, "BUCKET_NOT_DEFINED", "Bucket \"ghost\" is not defined"))

        #expect(c.askRaw(["id": 60, "type": "store.buckets"])
                == #"{"id":60,"type":"result","data":{"count":5,"names":["users","products","orders","logs","items"]}}"#)
        #expect(c.ask(["type": "store.insert", "bucket": "users", "data": ["name": "U"]])["type"] == "result")
        let stats = c.data(["type": "store.stats"])
        #expect(stats["buckets"]?["count"] == 5 && stats["buckets"]?["names"] == ["users", "products", "orders", "logs", "items"])
        #expect(stats["records"]?["total"] == 1)
    }
}
