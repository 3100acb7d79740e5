import NoexJSON
import Testing

@testable import NoexStore

/// The DQL additions of docs/protocol/queries.md#declarative-queries: compute/omit, expressions, shapes.
@Suite struct ShapeQueryTests {
    func store() throws -> Store {
        let s = makeStore()
        try s.defineBucket("customers", config: ["key": "id", "schema": ["id": ["type": "string"], "name": ["type": "string"], "tier": ["type": "string"]]])
        try s.defineBucket("orders", config: [
            "key": "id",
            "schema": ["id": ["type": "number", "generated": "autoincrement"], "customerId": ["type": "string"], "amount": ["type": "number"],
                       "status": ["type": "number"]],
            "indexes": ["customerId"],
        ])
        _ = try s.insert(bucket: "customers", record: ["id": "c1", "name": "Ann", "tier": "enterprise"])
        _ = try s.insert(bucket: "customers", record: ["id": "c2", "name": "Ben", "tier": "basic"])
        for (c, a, st) in [("c1", 100, 200), ("c1", 250, 500), ("c2", 75, 200)] as [(String, Int64, Int64)] {
            _ = try s.insert(bucket: "orders", record: ["customerId": .string(c), "amount": .int(a), "status": .int(st)])
        }
        return s
    }

    @Test func kpiWithComputeAndOmit() throws {
        let s = try store()
        try s.defineQuery("kpi", config: [
            "bucket": "orders",
            "aggregate": ["total": ["fn": "count"], "avg": ["fn": "avg", "field": "amount"], "max": ["fn": "max", "field": "missing"],
                          "errors": ["fn": "count", "filter": ["status": 500]]],
            "compute": ["avg": ["$round": [["$ref": "avg"], 1]], "max": ["$coalesce": [["$ref": "max"], 0]],
                        "errorRate": ["$cond": [["$gt": [["$ref": "total"], 0]],
                                                ["$round": [["$mul": [["$div": [["$ref": "errors"], ["$ref": "total"]]], 100]], 1]], 0]]],
            "omit": ["errors"],
        ])
        #expect(try s.runQuery("kpi") == ["total": 3, "avg": 141.7, "max": 0, "errorRate": 33.3])
    }

    @Test func perRecordCompute() throws {
        let s = try store()
        try s.defineQuery("withTax", config: [
            "bucket": "orders", "filter": ["customerId": "c1"],
            "compute": ["gross": ["$mul": [["$field": "amount"], 1.2]]], "fields": ["id", "gross"],
        ])
        #expect(try s.runQuery("withTax") == [["id": 1, "gross": 120], ["id": 2, "gross": 300]])
    }

    @Test func shapesWithRefsWhenAndRequired() throws {
        let s = try store()
        try s.defineQuery("customerView", config: [
            "shape": [
                ["as": "customer", "query": ["bucket": "customers", "get": ["$param": "id"]], "required": true],
                ["as": "orders", "query": ["bucket": "orders", "filter": ["customerId": ["$param": "id"]], "pluck": "amount"],
                 "when": ["$eq": [["$ref": "customer.tier"], "enterprise"]], "else": []],
                ["as": "count", "query": ["$size": ["$ref": "orders"]]],
            ],
            "compute": ["total": ["$add": [["$ref": "orders.0"], ["$ref": "orders.1"]]]],
        ])
        let c1 = try s.runQuery("customerView", params: ["id": "c1"])
        #expect(c1["orders"] == [100, 250] && c1["count"] == 2 && c1["total"] == 350 && c1["customer"]?["name"] == "Ann")
        let c2 = try s.runQuery("customerView", params: ["id": "c2"])
        #expect(c2["orders"] == [] && c2["total"] == .null)
        #expect(try s.runQuery("customerView", params: ["id": "nobody"]) == .null)
        // the skipped part adds no dependency: c2's subscription ignores orders
        let rec = Recorder()
        let (id, _) = try s.subscribe(query: "customerView", params: ["id": "c2"], listener: rec.listener)
        #expect(s.subscriptions[id]!.deps.buckets.isEmpty)
        _ = try s.insert(bucket: "orders", record: ["customerId": "c2", "amount": 1, "status": 200])
        #expect(rec.calls.isEmpty)
        _ = try s.update(bucket: "customers", key: "c2", changes: ["tier": "enterprise"])
        #expect(rec.calls.last?["orders"] == [75, 1])
        #expect(s.listQueries().first?["type"] == "declarative")
    }

    @Test func fanOutAndArrayFormat() throws {
        let s = try store()
        try s.defineQuery("fan", config: [
            "shape": [
                ["as": "orders", "query": ["bucket": "orders", "filter": ["amount": ["$gte": 75]]]],
                ["as": "customers", "query": ["bucket": "customers", "getMany": ["$distinct": ["$pluck": [["$ref": "orders"], "customerId"]]], "pluck": "name"]],
            ],
            "omit": ["orders"],
        ])
        #expect(try s.runQuery("fan") == ["customers": ["Ann", "Ben"]])
        try s.defineQuery("pair", config: [
            "shape": [["as": "a", "query": ["bucket": "customers", "get": "c1"]], ["as": "b", "query": ["bucket": "customers", "get": "c2"]]],
            "format": "array",
        ])
        #expect(try s.runQuery("pair").arrayValue?.map { $0["name"]! } == ["Ann", "Ben"])
        #expect(catchError { try s.defineQuery("bad", config: ["shape": [["as": "x", "query": ["bucket": "ghost"]]]]) } == .bucketNotDefined("ghost"))
        #expect(catchError { try s.defineQuery("bad", config: ["shape": []]) }?.code == "VALIDATION_ERROR")
    }

    @Test func expressions() {
        let env = QueryEnv(params: ["x": 3])
        func ev(_ e: JSON) -> JSON { QueryExpression.eval(e, env) }
        #expect(ev(["$add": [1, ["$param": "x"], 2.5]]) == 6.5)
        #expect(ev(["$sub": [10, 4]]) == 6)
        #expect(ev(["$div": [1, 0]]) == .null)
        #expect(ev(["$add": [1, .null]]) == .null)
        #expect(ev(["$round": [2.5]]) == 3 && ev(["$round": [-2.5]]) == -3 && ev(["$round": [1.005, 2]]) == 1.0)
        #expect(ev(["$not": 0]) == true && ev(["$and": [1, "a"]]) == true && ev(["$or": [0, ""]]) == false)
        #expect(ev(["$size": "😀"]) == 2 && ev(["$size": [1, 2]]) == 2)
        #expect(ev(["$distinct": [1, 1, 2, 1]]) == [1, 2])
        #expect(ev(["$lt": ["a", "b"]]) == true && ev(["$gt": [.null, 1]]) == false)
        #expect(ev(["literal": 1]) == ["literal": 1])
        #expect(ev("{{ params.x }}") == 3 && ev(["$param": "nope"]) == .null)
    }
}

@Suite struct LookupAndExprTests {
    @Test func lookupsAndExprFilters() throws {
        let s = makeStore()
        try s.defineBucket("customers", config: ["key": "id", "schema": ["id": ["type": "string"], "name": ["type": "string"]]])
        try s.defineBucket("orders", config: ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"], "customerId": ["type": "string"], "amount": ["type": "number"], "limit": ["type": "number"]]])
        _ = try s.insert(bucket: "customers", record: ["id": "c1", "name": "Ann"])
        _ = try s.insert(bucket: "orders", record: ["customerId": "c1", "amount": 5, "limit": 10])
        _ = try s.insert(bucket: "orders", record: ["customerId": "c9", "amount": 50, "limit": 10])
        // $expr compares two fields of one record, also through the plain store API
        #expect(try s.where(bucket: "orders", filter: ["$expr": ["$gt": [["$field": "amount"], ["$field": "limit"]]]]).field("id") == [2])
        try s.defineQuery("over", config: ["bucket": "orders", "filter": ["$expr": ["$gte": [["$field": "amount"], ["$param": "min"]]]], "pluck": "id"])
        #expect(try s.runQuery("over", params: ["min": 5]) == [1, 2])
        #expect(try s.runQuery("over", params: ["min": 6]) == [2])
        // key lookup and filter lookup
        try s.defineQuery("joined", config: [
            "bucket": "orders",
            "lookup": ["customer": ["bucket": "customers", "key": ["$field": "customerId"]],
                       "siblings": ["bucket": "orders", "filter": ["customerId": ["$field": "customerId"]], "aggregate": ["fn": "count"]]],
            "fields": ["id", "customer", "siblings"],
        ])
        let rows = try s.runQuery("joined")
        #expect(rows.arrayValue?[0]["customer"]?["name"] == "Ann")
        #expect(rows.arrayValue?[1]["customer"] == .null)
        #expect(rows.arrayValue?.map { $0["siblings"]! } == [1, 1])
        // a key lookup is a record-level dependency: another customer's change does not re-run it
        let rec = Recorder()
        let (id, _) = try s.subscribe(query: "joined", listener: rec.listener)
        #expect(s.subscriptions[id]!.deps.records.contains(RecordRef(bucket: "customers", key: "c1")))
        #expect(!s.subscriptions[id]!.deps.buckets.contains("customers"))
        _ = try s.insert(bucket: "customers", record: ["id": "c2", "name": "Other"])
        #expect(rec.calls.isEmpty)
        _ = try s.insert(bucket: "customers", record: ["id": "c9", "name": "Late"])
        #expect(rec.calls.count == 1 && rec.calls[0].arrayValue?[1]["customer"]?["name"] == "Late")
        #expect(catchError { try s.defineQuery("bad", config: ["bucket": "orders", "lookup": ["x": ["bucket": "ghost", "key": 1]]]) } == .bucketNotDefined("ghost"))
    }

    @Test func lookupsDisableTheFilterShortcut() throws {
        let s = makeStore()
        try s.defineBucket("o", config: ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"], "c": ["type": "string"], "big": ["type": "boolean"]]])
        _ = try s.insert(bucket: "o", record: ["c": "x", "big": true])
        try s.defineQuery("bigWithSiblings", config: [
            "bucket": "o", "filter": ["big": true],
            "lookup": ["n": ["bucket": "o", "filter": ["c": ["$field": "c"]], "aggregate": ["fn": "count"]]], "pluck": "n",
        ])
        let rec = Recorder()
        _ = try s.subscribe(query: "bigWithSiblings", listener: rec.listener)
        _ = try s.insert(bucket: "o", record: ["c": "x", "big": false])  // outside the filter, but a sibling
        #expect(rec.calls == [[2]])
    }

    @Test func declaredParams() throws {
        let s = makeStore()
        try s.defineBucket("u", config: ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"], "role": ["type": "string"]]])
        _ = try s.insert(bucket: "u", record: ["role": "admin"])
        _ = try s.insert(bucket: "u", record: ["role": "user"])
        try s.defineQuery("byRole", config: [
            "bucket": "u", "params": ["role": ["type": "string", "default": "user"], "n": ["type": "number", "required": true]],
            "filter": ["role": ["$param": "role"]], "limit": ["$param": "n"], "pluck": "id",
        ])
        #expect(try s.runQuery("byRole", params: ["n": 5]) == [2])
        #expect(try s.runQuery("byRole", params: ["n": 5, "role": "admin"]) == [1])
        #expect(catchError { _ = try s.runQuery("byRole") } == .invalidQuery("Missing required parameter \"n\""))
        #expect(catchError { _ = try s.runQuery("byRole", params: ["n": "5"]) }?.code == "VALIDATION_ERROR")
        #expect(catchError { _ = try s.subscribe(query: "byRole", params: ["n": true], listener: { _ in }) }?.code == "VALIDATION_ERROR")
        #expect(s.subscriptionCount == 0)
    }
}
