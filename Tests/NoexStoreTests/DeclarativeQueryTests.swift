import NoexJSON
import Testing

@testable import NoexStore

@Suite struct DeclarativeQueryTests {
    func seeded() throws -> Store {
        let store = makeStore()
        try store.defineBucket("users", config: [
            "key": "id",
            "schema": ["id": ["type": "number", "generated": "autoincrement"], "name": ["type": "string"], "role": ["type": "string"],
                       "age": ["type": "number"], "active": ["type": "boolean"]],
        ])
        let rows: [(String, String, Int64, Bool)] = [("Alice", "admin", 30, true), ("Bob", "user", 25, true), ("Charlie", "admin", 40, false),
                                                   ("Diana", "user", 22, true), ("Eve", "editor", 35, true)]
        for (n, r, a, act) in rows { _ = try store.insert(bucket: "users", record: ["name": .string(n), "role": .string(r), "age": .int(a), "active": .bool(act)]) }
        return store
    }

    func run(_ store: Store, _ config: JSONObject, _ params: JSON? = nil) throws -> JSON {
        let name = "q\(store.listQueries().count)"
        try store.defineQuery(name, config: config)
        return try store.runQuery(name, params: params)
    }

    func names(_ v: JSON) -> [String] { v.arrayValue!.map { $0["name"]!.stringValue! } }

    @Test func upstreamChecks() throws {
        let s = try seeded()
        #expect(try run(s, ["bucket": "users"]).arrayValue?.count == 5)
        #expect(try run(s, ["bucket": "users", "filter": ["role": "admin"]]).arrayValue?.count == 2)
        let sorted = try run(s, ["bucket": "users", "sort": ["role": "asc", "name": "asc"]])
        #expect(sorted.arrayValue!.map { "\($0["role"]!.stringValue!):\($0["name"]!.stringValue!)" }
            == ["admin:Alice", "admin:Charlie", "editor:Eve", "user:Bob", "user:Diana"])
        #expect(try run(s, ["bucket": "users", "sort": ["age": "desc"], "offset": 2, "limit": 2]).arrayValue!.map { $0["age"]! } == [30, 25])
        #expect(try run(s, ["bucket": "users", "fields": ["name", "age"], "filter": ["active": true], "sort": ["age": "desc"], "limit": 2])
            == [["name": "Eve", "age": 35], ["name": "Alice", "age": 30]])
        #expect(try run(s, ["bucket": "users", "filter": ["active": true], "aggregate": ["function": "count"], "limit": 1]) == 4)
        #expect(try run(s, ["bucket": "users", "aggregate": ["function": "sum", "field": "age"]]) == 152)
        #expect(try run(s, ["bucket": "users", "filter": ["role": "nobody"], "aggregate": ["function": "min", "field": "age"]]) == .null)
        #expect(names(try run(s, ["bucket": "users", "filter": ["role": "{{ params.role }}"]], ["role": "user"])) == ["Bob", "Diana"])
        #expect(names(try run(s, ["bucket": "users", "filter": ["role": "{{params.role}}"]], ["role": "editor"])) == ["Eve"])
        // partial templates are not interpolated
        #expect(names(try run(s, ["bucket": "users", "filter": ["role": "x{{ params.role }}"]], ["role": "user"])) == [])
        // a missing parameter is undefined: matches records lacking the field
        #expect(try run(s, ["bucket": "users", "filter": ["role": "{{ params.role }}"]]) == [])
        #expect(try run(s, ["bucket": "users", "filter": ["age": ["$gt": "{{ params.min }}"]]]).arrayValue?.count == 5)
        #expect(names(try run(s, ["bucket": "users", "filter": ["age": ["$gt": ["$param": "min"]]]], ["min": 30])) == ["Charlie", "Eve"])
        #expect(names(try run(s, ["bucket": "users", "filter": ["$or": [["role": "editor"], ["age": ["$lt": "{{ params.a }}"]]]]], ["a": 25])) == ["Diana", "Eve"])
        // unknown keys are ignored
        #expect(try run(s, ["bucket": "users", "select": ["x"]]).arrayValue?.count == 5)
    }

    @Test func readForms() throws {
        let s = try seeded()
        #expect(try run(s, ["bucket": "users", "get": 2])["name"] == "Bob")
        #expect(try run(s, ["bucket": "users", "get": 99]) == .null)
        #expect(try run(s, ["bucket": "users", "get": ["$param": "id"]], ["id": 3])["name"] == "Charlie")
        #expect(names(try run(s, ["bucket": "users", "getMany": [3, 1, 42]])) == ["Charlie", "Alice"])
        #expect(try run(s, ["bucket": "users", "one": true, "filter": ["role": "user"]])["name"] == "Bob")
        #expect(try run(s, ["bucket": "users", "one": true, "filter": ["role": "x"]]) == .null)
        #expect(names(try run(s, ["bucket": "users", "first": 2])) == ["Alice", "Bob"])
        #expect(names(try run(s, ["bucket": "users", "last": ["$param": "n"]], ["n": 2])) == ["Diana", "Eve"])
        let page = try run(s, ["bucket": "users", "page": ["limit": 2, "after": 4]])
        #expect(page["hasMore"] == false && page["nextCursor"] == 5 && names(page["records"]!) == ["Eve"])
        #expect(try run(s, ["bucket": "users", "page": ["limit": 2, "after": 5]])["nextCursor"] == .null)
        #expect(try run(s, ["bucket": "users", "pluck": "name", "sort": [["field": "age", "dir": "asc"]]]) == ["Diana", "Bob", "Alice", "Eve", "Charlie"])
    }

    @Test func aggregates() throws {
        let s = try seeded()
        #expect(try run(s, ["bucket": "users", "aggregate": [
            "total": ["fn": "count"], "admins": ["fn": "count", "filter": ["role": "admin"]],
            "avgAge": ["fn": "avg", "field": "age"], "oldest": ["fn": "max", "field": "age"],
            "names": ["fn": "collect", "field": "name", "filter": ["age": ["$gte": 35]]],
        ]]) == ["total": 5, "admins": 2, "avgAge": 30.4, "oldest": 40, "names": ["Charlie", "Eve"]])
        #expect(try run(s, ["bucket": "users", "aggregate": ["fn": "count"], "groupBy": "role", "groupFormat": "object"])
            == ["admin": 2, "user": 2, "editor": 1])
        #expect(try run(s, ["bucket": "users", "aggregate": ["fn": "sum", "field": "age"], "groupBy": ["role"]])
            == [["key": ["role": "admin"], "value": 70], ["key": ["role": "user"], "value": 47], ["key": ["role": "editor"], "value": 35]])
    }

    @Test func sortNullsLast() throws {
        let store = makeStore()
        try store.defineBucket("s", config: ["key": "id", "schema": ["id": ["type": "number"], "v": ["type": "number"]]])
        for (i, v) in [(1, JSON.int(2)), (2, .null), (3, 1), (4, 3)] {
            var r: JSONObject = ["id": .int(Int64(i))]
            if !v.isNull { r["v"] = v }
            _ = try store.insert(bucket: "s", record: r)
        }
        try store.defineQuery("asc", config: ["bucket": "s", "sort": ["v": "asc"], "pluck": "id"])
        try store.defineQuery("desc", config: ["bucket": "s", "sort": ["v": "desc"], "pluck": "id"])
        #expect(try store.runQuery("asc") == [3, 1, 4, 2])
        #expect(try store.runQuery("desc") == [4, 1, 3, 2])
    }

    /// A one-key sort over numbers compares them without JSON values (`numericOrder`); the
    /// order must be the general comparator's for every mix: ints only, ints and doubles, ints
    /// beyond 2^53 with doubles, ties, and with nulls, missing values or strings (the general path).
    @Test func oneKeySortMatchesTheGeneralComparatorForEveryMixOfValues() throws {
        let big: Int64 = 1 << 53
        let pools: [[JSON?]] = [
            [.int(-3), .int(0), .int(1), .int(1), .int(2), .int(Int64.max), .int(Int64.min)],
            [.int(1), .int(2), .double(1.5), .double(-0.5), .double(2), .int(-1)],
            [.int(big), .int(big + 1), .double(Double(big)), .int(3), .double(0.25)],
            [.int(1), .double(2.5), .null, nil, .int(0)],
            [.int(10), .int(9), .string("9"), .string("a"), .double(9.5)],
        ]
        var rng = SeededRandom(seed: 13)
        for (p, pool) in pools.enumerated() {
            for trial in 0..<20 {
                let store = makeStore()
                try store.defineBucket("s", config: ["key": "id", "schema": ["id": ["type": "number"]]])
                let count = 1 + Int(rng.next() % 30)
                var values: [JSON?] = []
                for i in 0..<count {
                    let v = pool[Int(rng.next() % UInt64(pool.count))]
                    values.append(v)
                    var r: JSONObject = ["id": .int(Int64(i))]
                    if let v { r["v"] = v }
                    _ = try store.insert(bucket: "s", record: r)
                }
                for desc in [false, true] {
                    let name = "q\(desc)"
                    try store.defineQuery(name, config: ["bucket": "s", "sort": ["v": desc ? "desc" : "asc"], "pluck": "id"])
                    let expected = Array(0..<count).sorted { x, y in
                        let a = values[x], b = values[y]
                        if JSValue.strictEquals(a, b) { return x < y }
                        let aNull = a == nil || a!.isNull, bNull = b == nil || b!.isNull
                        if aNull && bNull { return x < y }
                        if aNull { return false }
                        if bNull { return true }
                        if JSValue.less(a!, b!) { return !desc }
                        if JSValue.less(b!, a!) { return desc }
                        return x < y
                    }
                    #expect(try store.runQuery(name) == .array(expected.map { .int(Int64($0)) }), "pool \(p) trial \(trial) desc \(desc) \(values)")
                }
            }
        }
    }

    @Test func definitionErrors() throws {
        let s = try seeded()
        #expect(catchError { try s.defineQuery("x", config: ["bucket": "ghost"]) } == .bucketNotDefined("ghost"))
        for bad: JSONObject in [[:], ["bucket": "users", "limit": -1], ["bucket": "users", "get": 1, "one": true],
                                ["bucket": "users", "first": 2, "aggregate": ["fn": "count"]], ["bucket": "users", "sort": ["a": "up"]],
                                ["bucket": "users", "aggregate": ["fn": "median", "field": "age"]], ["bucket": "users", "filter": "x"],
                                ["bucket": "users", "first": 2, "filter": ["role": "admin"]], ["bucket": "users", "page": ["limit": 2], "filter": ["a": 1]],
                                ["bucket": "users", "get": 1, "filter": ["a": 1]], ["bucket": "users", "page": ["limit": 0]]] {
            #expect(catchError { try s.defineQuery("bad", config: bad) }?.code == "VALIDATION_ERROR", "\(bad)")
        }
        #expect(!s.hasQuery("bad"))
    }

    @Test func listAndUndefine() throws {
        let s = try seeded()
        try s.defineQuery("decl", config: ["bucket": "users"])
        try s.defineQuery("prog") { (ctx, _) throws(StoreError) -> JSON in .int(Int64(try ctx.count(bucket: "users"))) }
        let (_, initial) = try s.subscribe(query: "decl", listener: { _ in })
        #expect(initial.arrayValue?.count == 5)
        #expect(s.listQueries() == [
            ["name": "decl", "type": "declarative", "config": ["bucket": "users"], "activeSubscriptions": 1],
            ["name": "prog", "type": "programmatic", "activeSubscriptions": 0],
        ])
        #expect(s.undefineQuery("decl"))
        #expect(!s.undefineQuery("decl"))
        #expect(s.subscriptionCount == 0)
        #expect(s.listQueries().count == 1)
    }
}
