import NoexJSON
import Testing

@testable import NoexStore

/// The original store's language-neutral scenarios (1–28 and 30; 29 is persistence, not built).
@Suite struct ScenarioTests {
    func isUUIDv4(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 36, u[8] == 45, u[13] == 45, u[18] == 45, u[23] == 45, u[14] == UInt8(ascii: "4") else { return false }
        guard "89ab".utf8.contains(u[19]) else { return false }
        return u.enumerated().allSatisfy { [8, 13, 18, 23].contains($0.offset) || "0123456789abcdef".utf8.contains($0.element) }
    }

    @Test func s01_crudRoundTrip() throws {
        let clock = TestClock()
        let store = makeStore(clock: clock)
        try store.defineBucket("users", config: Fixture.users)
        let r = try store.insert(bucket: "users", record: ["name": "Alice"])
        let id = try #require(r["id"]?.stringValue)
        #expect(isUUIDv4(id))
        #expect(r["tier"] == "basic")
        #expect(r["_version"] == 1)
        #expect(r["_createdAt"] == .int(clock.now))
        #expect(r["_createdAt"] == r["_updatedAt"])
        #expect(r["createdAt"] == .int(clock.now))
        #expect(try store.get(bucket: "users", key: .string(id)) == r)
        clock.advance(5)
        let u = try store.update(bucket: "users", key: .string(id), changes: ["name": "Alice Cooper", "tier": "vip"])
        #expect(u["id"] == .string(id))
        #expect(u["_version"] == 2)
        #expect(u["_createdAt"] == r["_createdAt"])
        #expect(u["_updatedAt"] == .int(clock.now))
        #expect(u["name"] == "Alice Cooper")
        #expect(try store.delete(bucket: "users", key: .string(id)))
        #expect(try store.get(bucket: "users", key: .string(id)) == nil)
        // field order: input fields, generated, defaults, then metadata
        #expect(r.keys == ["name", "id", "createdAt", "tier", "_version", "_createdAt", "_updatedAt"])
    }

    @Test func s02_validationCollectsIssues() throws {
        let store = makeStore()
        try store.defineBucket("people", config: [
            "key": "id",
            "schema": ["id": ["type": "string", "generated": "uuid"], "name": ["type": "string", "required": true],
                       "age": ["type": "number", "min": 0]],
        ])
        let err = try #require(catchError { _ = try store.insert(bucket: "people", record: ["age": -5]) })
        #expect(err.name == "ValidationError")
        #expect(err.code == "VALIDATION_ERROR")
        guard case .validation(let bucket, let issues) = err else { Issue.record("wrong error"); return }
        #expect(bucket == "people")
        #expect(issues == [
            ValidationIssue(field: "name", message: "Field is required", code: "required"),
            ValidationIssue(field: "age", message: "Minimum value is 0", code: "min"),
        ])
        #expect(err.message == "Validation failed for bucket \"people\": name: Field is required; age: Minimum value is 0")
        #expect(err.details == [["field": "name", "message": "Field is required", "code": "required"],
                                ["field": "age", "message": "Minimum value is 0", "code": "min"]])
        #expect(try store.count(bucket: "people") == 0)
    }

    @Test func s03_constraintCatalogue() throws {
        let store = makeStore()
        try store.defineBucket("users", config: Fixture.users)
        func code(_ rec: JSONObject) -> [String] {
            guard case .validation(_, let issues)? = catchError({ _ = try store.insert(bucket: "users", record: rec) }) else { return [] }
            return issues.map(\.code)
        }
        #expect(code([:]) == ["required"])
        #expect(code(["name": "T", "tier": "premium"]) == ["enum"])
        #expect(code(["name": "T", "email": "not-an-email"]) == ["format"])
        #expect(code(["name": 123]) == ["type"])
        try store.defineBucket("events", config: ["key": "id", "schema": ["id": ["type": "string", "generated": "cuid"], "at": ["type": "date"]]])
        #expect(catchError { _ = try store.insert(bucket: "events", record: ["at": 1_700_000_000]) } == nil)
        #expect(catchError { _ = try store.insert(bucket: "events", record: ["at": "2024-01-01"]) } == nil)
        #expect(catchError { _ = try store.insert(bucket: "events", record: ["at": true]) }?.code == "VALIDATION_ERROR")
        let ok = try store.insert(bucket: "users", record: ["name": "Valid"])
        let err = catchError { _ = try store.update(bucket: "users", key: ok["id"]!, changes: ["name": ""]) }
        guard case .validation(_, let issues)? = err else { Issue.record("no error"); return }
        #expect(issues.map(\.code) == ["minLength"])
        #expect(try store.get(bucket: "users", key: ok["id"]!) == ok)
    }

    @Test func s04_updateProtections() throws {
        let store = makeStore()
        try store.defineBucket("users", config: Fixture.users)
        _ = try store.insert(bucket: "users", record: ["id": "existing-uuid", "name": "A"])
        let u = try store.update(bucket: "users", key: "existing-uuid",
                                 changes: ["id": "hacked", "name": "Bob", "_version": 999, "_createdAt": 0, "_updatedAt": 0])
        #expect(u["id"] == "existing-uuid")
        #expect(u["_version"] == 2)
        #expect(u["_createdAt"] != 0)
        #expect(u["_updatedAt"] != 0)
        let err = catchError { _ = try store.update(bucket: "users", key: "missing", changes: ["name": "x"]) }
        #expect(err == .recordNotFound(bucket: "users", key: "missing"))
        #expect(err?.message.contains("not found") == true)
        #expect(err?.code == "NOT_FOUND")
        var events: [StoreEvent] = []
        store.addEventListener { events.append($0) }
        #expect(try store.delete(bucket: "users", key: "missing") == false)
        #expect(events.isEmpty)
    }

    @Test func s05_autoincrement() throws {
        let store = makeStore()
        try store.defineBucket("orders", config: Fixture.orders)
        try store.defineBucket("orders2", config: Fixture.orders)
        var ids: [JSON] = []
        for _ in 0..<3 { ids.append(try store.insert(bucket: "orders", record: ["customerId": "c", "amount": 1, "items": []])["id"]!) }
        #expect(ids == [.int(1), .int(2), .int(3)])
        #expect(try store.get(bucket: "orders", key: 2)?["id"] == .int(2))
        #expect(try store.get(bucket: "orders", key: "2") == nil)
        #expect(try store.insert(bucket: "orders2", record: ["customerId": "c", "amount": 1, "items": []])["id"] == 1)
    }

    @Test func s06_uniqueConstraint() throws {
        let store = makeStore()
        try store.defineBucket("customers", config: Fixture.customers)
        let a = try store.insert(bucket: "customers", record: ["name": "A", "email": "dup@x.cz"])
        let err = catchError { _ = try store.insert(bucket: "customers", record: ["name": "B", "email": "dup@x.cz"]) }
        #expect(err == .uniqueConstraint(bucket: "customers", field: "email", value: "dup@x.cz"))
        #expect(err?.name == "UniqueConstraintError")
        #expect(err?.code == "ALREADY_EXISTS")
        #expect(err?.details == ["bucket": "customers", "field": "email", "value": "dup@x.cz"])
        #expect(err?.message == "Unique constraint violation in bucket \"customers\": field \"email\" already has value \"dup@x.cz\"")
        #expect(try store.count(bucket: "customers") == 1)
        let b = try store.insert(bucket: "customers", record: ["name": "B", "email": "b@x.cz"])
        #expect(catchError { _ = try store.update(bucket: "customers", key: b["id"]!, changes: ["email": "dup@x.cz"]) }?.name == "UniqueConstraintError")
        #expect(try store.update(bucket: "customers", key: a["id"]!, changes: ["name": "A2"])["email"] == "dup@x.cz")
        try store.delete(bucket: "customers", key: a["id"]!)
        #expect(catchError { _ = try store.insert(bucket: "customers", record: ["name": "C", "email": "dup@x.cz"]) } == nil)
        _ = try store.insert(bucket: "customers", record: ["name": "N1"])
        _ = try store.insert(bucket: "customers", record: ["name": "N2"])
        #expect(try store.count(bucket: "customers") == 4)
    }

    @Test func s07_indexMaintenance() throws {
        let store = makeStore()
        try store.defineBucket("customers", config: Fixture.customers)
        let alice = try store.insert(bucket: "customers", record: ["name": "Alice", "tier": "vip", "email": "alice@x.cz"])
        let bob = try store.insert(bucket: "customers", record: ["name": "Bob", "tier": "basic", "email": "bob@x.cz"])
        _ = try store.insert(bucket: "customers", record: ["name": "Carol", "tier": "vip", "email": "carol@x.cz"])
        #expect(try store.where(bucket: "customers", filter: ["tier": "vip"]).count == 2)
        #expect(try store.where(bucket: "customers", filter: ["tier": "vip", "name": "Alice"]).count == 1)
        #expect(try store.where(bucket: "customers", filter: ["tier": "silver"]).isEmpty)
        _ = try store.update(bucket: "customers", key: bob["id"]!, changes: ["tier": "vip"])
        #expect(try store.where(bucket: "customers", filter: ["tier": "vip"]).count == 3)
        #expect(try store.count(bucket: "customers", filter: ["tier": "basic"]) == 0)
        // indexed results come in table order
        #expect(try store.where(bucket: "customers", filter: ["tier": "vip"]).field("name") == ["Alice", "Bob", "Carol"])
        _ = try store.update(bucket: "customers", key: alice["id"]!, changes: ["email": "alice2@x.cz"])
        #expect(try store.findOne(bucket: "customers", filter: ["email": "alice@x.cz"]) == nil)
        #expect(try store.findOne(bucket: "customers", filter: ["email": "alice2@x.cz"])?["name"] == "Alice")
        try store.delete(bucket: "customers", key: alice["id"]!)
        #expect(try store.findOne(bucket: "customers", filter: ["email": "alice2@x.cz"]) == nil)
        try store.clear(bucket: "customers")
        #expect(try store.where(bucket: "customers", filter: ["tier": "vip"]).isEmpty)
        #expect(catchError { _ = try store.insert(bucket: "customers", record: ["name": "B", "email": "bob@x.cz"]) } == nil)
    }

    @Test func s08_queriesWithoutIndexes() throws {
        let store = makeStore()
        try store.defineBucket("plain", config: ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"], "role": ["type": "string"]]])
        try store.defineBucket("indexed", config: ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"], "role": ["type": "string"]], "indexes": ["role"]])
        for b in ["plain", "indexed"] {
            for role in ["admin", "user", "admin", "guest"] { _ = try store.insert(bucket: b, record: ["role": .string(role)]) }
        }
        for b in ["plain", "indexed"] {
            #expect(try store.where(bucket: b, filter: ["role": "admin"]).field("id") == [1, 3])
            #expect(try store.findOne(bucket: b, filter: ["role": "guest"])?["id"] == 4)
            #expect(try store.count(bucket: b, filter: ["role": "admin"]) == 2)
            #expect(try store.count(bucket: b) == 4)
            #expect(try store.where(bucket: b, filter: [:]).count == 4)
            #expect(try store.where(bucket: b, filter: ["nope": "x"]).isEmpty)
        }
    }

    @Test func s09_firstLastOrdering() throws {
        let store = makeStore()
        try store.defineBucket("set", config: ["key": "id", "schema": ["id": ["type": "string"]]])
        for k in ["x", "y", "z"] { _ = try store.insert(bucket: "set", record: ["id": .string(k)]) }
        #expect(try store.first(bucket: "set", n: 2).field("id") == ["x", "y"])
        #expect(try store.last(bucket: "set", n: 2).field("id") == ["y", "z"])
        try store.defineBucket("scores", config: Fixture.scores)
        #expect(try store.first(bucket: "scores", n: 3).isEmpty)
        for i in 1...5 { _ = try store.insert(bucket: "scores", record: ["name": .string("s\(i)")]) }
        #expect(try store.first(bucket: "scores", n: 3).field("id") == [1, 2, 3])
        #expect(try store.last(bucket: "scores", n: 3).field("id") == [3, 4, 5])
        try store.defineBucket("one", config: Fixture.scores)
        _ = try store.insert(bucket: "one", record: ["name": "only"])
        #expect(try store.last(bucket: "one", n: 10).count == 1)
    }

    @Test func s10_cursorPagination() throws {
        let store = makeStore()
        try store.defineBucket("scores", config: Fixture.scores)
        let empty = try store.paginate(bucket: "scores", limit: 2)
        #expect(empty == Page(records: [], hasMore: false, nextCursor: nil))
        #expect(empty.json == ["records": [], "hasMore": false])
        for i in 1...5 { _ = try store.insert(bucket: "scores", record: ["name": .string("s\(i)")]) }
        var p = try store.paginate(bucket: "scores", limit: 2)
        #expect(p.records.field("id") == [1, 2] && p.hasMore && p.nextCursor == 2)
        p = try store.paginate(bucket: "scores", after: 2, limit: 2)
        #expect(p.records.field("id") == [3, 4] && p.hasMore)
        p = try store.paginate(bucket: "scores", after: 4, limit: 10)
        #expect(p.records.field("id") == [5] && !p.hasMore && p.nextCursor == 5)
        #expect(p.json == ["records": .array(p.records.map(JSON.object)), "hasMore": false, "nextCursor": 5])
        #expect(try store.paginate(bucket: "scores", after: 999, limit: 2).records.isEmpty)
        #expect(try store.paginate(bucket: "scores", after: "2", limit: 2).records.isEmpty)
        #expect(try store.paginate(bucket: "scores", after: .null, limit: 2).records.isEmpty)
        try store.defineBucket("three", config: Fixture.scores)
        for i in 1...3 { _ = try store.insert(bucket: "three", record: ["name": .string("s\(i)")]) }
        let end = try store.paginate(bucket: "three", after: 3, limit: 2)
        #expect(end.records.isEmpty && !end.hasMore && end.nextCursor == nil)
        try store.defineBucket("ten", config: Fixture.scores)
        for i in 1...10 { _ = try store.insert(bucket: "ten", record: ["name": .string("s\(i)")]) }
        var all: [JSON] = [], cursor: JSON? = nil, pages = 0
        repeat {
            let page = try store.paginate(bucket: "ten", after: cursor, limit: 3)
            all += page.records.field("id")
            cursor = page.nextCursor
            pages += 1
            if !page.hasMore { break }
        } while pages < 20
        #expect(pages == 4)
        #expect(all == (1...10).map { JSON.int(Int64($0)) })
    }

    @Test func s11_aggregations() throws {
        let store = makeStore()
        try store.defineBucket("scores", config: Fixture.scores)
        #expect(try store.sum(bucket: "scores", field: "score") == 0)
        #expect(try store.avg(bucket: "scores", field: "score") == 0)
        #expect(try store.min(bucket: "scores", field: "score") == .null)
        #expect(try store.max(bucket: "scores", field: "score") == .null)
        for i in 0..<10 {
            _ = try store.insert(bucket: "scores", record: ["name": "n", "score": .int(Int64(i * 10)), "tier": i % 2 == 0 ? "vip" : "basic"])
        }
        #expect(try store.sum(bucket: "scores", field: "score") == 450)
        #expect(try store.avg(bucket: "scores", field: "score") == 45)
        #expect(try store.min(bucket: "scores", field: "score") == 0)
        #expect(try store.max(bucket: "scores", field: "score") == 90)
        #expect(try store.sum(bucket: "scores", field: "score", filter: ["tier": "vip"]) == 200)
        #expect(try store.avg(bucket: "scores", field: "score", filter: ["tier": "vip"]) == 40)
        #expect(try store.min(bucket: "scores", field: "score", filter: ["tier": "basic"]) == 10)
        #expect(try store.max(bucket: "scores", field: "score", filter: ["tier": "basic"]) == 90)
        #expect(try store.sum(bucket: "scores", field: "name") == 0)
        #expect(try store.avg(bucket: "scores", field: "name") == 0)
    }

    @Test func s12_events() throws {
        let store = makeStore()
        try store.defineBucket("users", config: Fixture.users)
        try store.defineBucket("orders", config: Fixture.orders)
        var exact: [StoreEvent] = [], wildcard: [StoreEvent] = []
        let l1 = store.addEventListener(pattern: "bucket.users.inserted") { exact.append($0) }
        let l2 = store.addEventListener(pattern: "bucket.users.*") { wildcard.append($0) }
        let r = try store.insert(bucket: "users", record: ["name": "A"])
        let u = try store.update(bucket: "users", key: r["id"]!, changes: ["name": "B"])
        try store.delete(bucket: "users", key: r["id"]!)
        _ = try store.insert(bucket: "orders", record: ["customerId": "c", "amount": 1, "items": []])
        #expect(exact == [.inserted(bucket: "users", key: r["id"]!, record: r)])
        #expect(wildcard.map(\.type) == ["inserted", "updated", "deleted"])
        #expect(wildcard[1] == .updated(bucket: "users", key: r["id"]!, oldRecord: r, newRecord: u))
        #expect(wildcard[2] == .deleted(bucket: "users", key: r["id"]!, record: u))
        #expect(wildcard[1].payload == ["type": "updated", "bucket": "users", "key": r["id"]!, "oldRecord": .object(r), "newRecord": .object(u)])
        #expect(wildcard[0].topic == "bucket.users.inserted")
        #expect(store.removeEventListener(l1) && store.removeEventListener(l2))
        _ = try store.insert(bucket: "users", record: ["name": "C"])
        #expect(exact.count == 1 && wildcard.count == 3)
    }

    @Test func s13_reactiveFirstNotification() throws {
        let store = makeStore()
        try store.defineBucket("customers", config: Fixture.customers)
        try store.defineQuery("vips", config: ["bucket": "customers", "filter": ["tier": "vip"]])
        let rec = Recorder()
        let (_, initial) = try store.subscribe(query: "vips", listener: rec.listener)
        #expect(initial == [])
        #expect(rec.calls.isEmpty)
        _ = try store.insert(bucket: "customers", record: ["name": "Basic"])
        #expect(rec.calls.isEmpty)
        let bob = try store.insert(bucket: "customers", record: ["name": "Bob", "tier": "vip"])
        #expect(rec.calls == [[.object(bob)]])
    }

    @Test func s14_reactiveUpdateDeleteUnsubscribe() throws {
        let store = makeStore()
        try store.defineBucket("customers", config: Fixture.customers)
        try store.defineQuery("vips", config: ["bucket": "customers", "filter": ["tier": "vip"]])
        let pre = try store.insert(bucket: "customers", record: ["name": "Pre", "tier": "vip"])
        let rec = Recorder()
        let (id, initial) = try store.subscribe(query: "vips", listener: rec.listener)
        #expect(initial == [.object(pre)])
        try store.delete(bucket: "customers", key: pre["id"]!)
        #expect(rec.calls == [[]])
        let a = try store.insert(bucket: "customers", record: ["name": "A"])
        #expect(rec.calls.count == 1)
        let a2 = try store.update(bucket: "customers", key: a["id"]!, changes: ["tier": "vip"])
        #expect(rec.calls.last == [.object(a2)])
        _ = try store.update(bucket: "customers", key: a["id"]!, changes: ["tier": "basic"])
        #expect(rec.calls.count == 3 && rec.calls.last == [])
        #expect(store.unsubscribe(id))
        #expect(!store.unsubscribe(id))
        _ = try store.insert(bucket: "customers", record: ["name": "C", "tier": "vip"])
        #expect(rec.calls.count == 3)
    }

    @Test func s15_deepEqualSuppression() throws {
        let store = makeStore()
        try store.defineBucket("customers", config: Fixture.customers)
        try store.defineQuery("vipCount", config: ["bucket": "customers", "filter": ["tier": "vip"], "aggregate": ["function": "count"]])
        try store.defineQuery("vipObj") { (ctx, _) throws(StoreError) -> JSON in
            ["vipCount": .int(Int64(try ctx.count(bucket: "customers", filter: ["tier": "vip"])))]
        }
        let r1 = Recorder(), r2 = Recorder()
        _ = try store.subscribe(query: "vipCount", listener: r1.listener)
        _ = try store.subscribe(query: "vipObj", listener: r2.listener)
        for i in 0..<3 { _ = try store.insert(bucket: "customers", record: ["name": .string("b\(i)")]) }
        #expect(r1.calls.isEmpty && r2.calls.isEmpty)
        _ = try store.insert(bucket: "customers", record: ["name": "v", "tier": "vip"])
        #expect(r1.calls == [1])
        #expect(r2.calls == [["vipCount": 1]])
    }

    @Test func s16_bucketLevelIsolation() throws {
        let store = makeStore()
        try store.defineBucket("customers", config: Fixture.customers)
        try store.defineBucket("orders", config: Fixture.orders)
        try store.defineQuery("both") { (ctx, _) throws(StoreError) -> JSON in
            ["customers": .int(Int64(try ctx.all(bucket: "customers").count)), "orders": .int(Int64(try ctx.all(bucket: "orders").count))]
        }
        var evaluations = 0
        try store.defineQuery("custCount") { (ctx, _) throws(StoreError) -> JSON in
            evaluations += 1
            return .int(Int64(try ctx.count(bucket: "customers")))
        }
        let both = Recorder(), cust = Recorder()
        _ = try store.subscribe(query: "both", listener: both.listener)
        _ = try store.subscribe(query: "custCount", listener: cust.listener)
        _ = try store.insert(bucket: "customers", record: ["name": "c"])
        _ = try store.insert(bucket: "orders", record: ["customerId": "c", "amount": 1, "items": []])
        #expect(both.calls == [["customers": 1, "orders": 0], ["customers": 1, "orders": 1]])
        #expect(cust.calls == [1])
        #expect(evaluations == 2)  // initial + the customers insert; the orders insert did not re-run it
    }

    @Test func s17_recordLevelDependency() throws {
        let store = makeStore()
        try store.defineBucket("customers", config: Fixture.customers)
        try store.defineBucket("orders", config: Fixture.orders)
        for id in ["c1", "c2"] { _ = try store.insert(bucket: "customers", record: ["id": .string(id), "name": .string(id)]) }
        try store.defineQuery("byId", config: ["bucket": "customers", "get": "{{ params.id }}"])
        let rec = Recorder()
        _ = try store.subscribe(query: "byId", params: ["id": "c1"], listener: rec.listener)
        _ = try store.insert(bucket: "customers", record: ["id": "c3", "name": "c3"])
        _ = try store.update(bucket: "customers", key: "c2", changes: ["name": "x"])
        #expect(rec.calls.isEmpty)
        let c1 = try store.update(bucket: "customers", key: "c1", changes: ["name": "new"])
        #expect(rec.calls == [.object(c1)])
        try store.defineQuery("mixed") { (ctx, p) throws(StoreError) -> JSON in
            let id = p?["id"] ?? .null
            return ["customer": try ctx.get(bucket: "customers", key: id).map(JSON.object) ?? .null,
                    "orders": .array(try ctx.where(bucket: "orders", filter: ["customerId": id]).map(JSON.object))]
        }
        let mixed = Recorder()
        _ = try store.subscribe(query: "mixed", params: ["id": "c1"], listener: mixed.listener)
        _ = try store.insert(bucket: "orders", record: ["customerId": "c1", "amount": 1, "items": []])
        #expect(mixed.calls.count == 1)
        _ = try store.update(bucket: "customers", key: "c2", changes: ["name": "y"])
        #expect(mixed.calls.count == 1)
        _ = try store.update(bucket: "customers", key: "c1", changes: ["name": "z"])
        #expect(mixed.calls.count == 2)
    }

    @Test func s18_dynamicDependencies() throws {
        let store = makeStore()
        try store.defineBucket("customers", config: Fixture.customers)
        try store.defineBucket("orders", config: Fixture.orders)
        for id in ["alice", "bob"] { _ = try store.insert(bucket: "customers", record: ["id": .string(id), "name": .string(id)]) }
        var target: JSON = "alice"
        try store.defineQuery("target") { (ctx, _) throws(StoreError) -> JSON in
            try ctx.get(bucket: "customers", key: target).map(JSON.object) ?? .null
        }
        let rec = Recorder()
        _ = try store.subscribe(query: "target", listener: rec.listener)
        target = "bob"
        _ = try store.update(bucket: "customers", key: "alice", changes: ["name": "a1"])  // re-evaluates, now reads bob
        #expect(rec.calls.count == 1 && rec.calls[0]["id"] == "bob")
        _ = try store.update(bucket: "customers", key: "alice", changes: ["name": "a2"])
        #expect(rec.calls.count == 1)
        _ = try store.update(bucket: "customers", key: "bob", changes: ["name": "b1"])
        #expect(rec.calls.count == 2)

        var orderReads = 0
        try store.defineQuery("vipOrders") { (ctx, _) throws(StoreError) -> JSON in
            if try ctx.count(bucket: "customers", filter: ["tier": "vip"]) > 0 {
                orderReads += 1
                return .array(try ctx.all(bucket: "orders").map(JSON.object))
            }
            return []
        }
        let vo = Recorder()
        let (id, _) = try store.subscribe(query: "vipOrders", listener: vo.listener)
        #expect(store.subscriptions[id]!.deps.buckets == ["customers"])
        _ = try store.insert(bucket: "orders", record: ["customerId": "x", "amount": 1, "items": []])
        #expect(orderReads == 0 && vo.calls.isEmpty)
        _ = try store.update(bucket: "customers", key: "bob", changes: ["tier": "vip"])
        #expect(store.subscriptions[id]!.deps.buckets == ["customers", "orders"])
        #expect(vo.calls.count == 1)
        _ = try store.insert(bucket: "orders", record: ["customerId": "y", "amount": 1, "items": []])
        #expect(vo.calls.count == 2)
    }

    @Test func s19_parameterizedIndependence() throws {
        let store = makeStore()
        try store.defineBucket("orders", config: Fixture.orders)
        try store.defineQuery("byCustomer", config: ["bucket": "orders", "filter": ["customerId": ["$param": "customerId"]]])
        let alice = Recorder(), bob = Recorder(), alice2 = Recorder()
        _ = try store.subscribe(query: "byCustomer", params: ["customerId": "alice"], listener: alice.listener)
        _ = try store.subscribe(query: "byCustomer", params: ["customerId": "bob"], listener: bob.listener)
        _ = try store.subscribe(query: "byCustomer", params: ["customerId": "alice"], listener: alice2.listener)
        _ = try store.insert(bucket: "orders", record: ["customerId": "alice", "amount": 5, "items": []])
        #expect(alice.calls.count == 1 && alice.calls[0].arrayValue?.count == 1)
        #expect(alice2.calls.count == 1)
        #expect(bob.calls.isEmpty)
    }

    @Test func s20_queryErrors() throws {
        let store = makeStore()
        try store.defineBucket("customers", config: Fixture.customers)
        try store.defineQuery("fragile") { (ctx, _) throws(StoreError) -> JSON in
            if try ctx.count(bucket: "customers") > 0 { throw .invalidQuery("boom") }
            return 0
        }
        try store.defineQuery("healthy", config: ["bucket": "customers", "aggregate": ["function": "count"]])
        let f = Recorder(), h = Recorder()
        _ = try store.subscribe(query: "fragile", listener: f.listener)
        _ = try store.subscribe(query: "healthy", listener: h.listener)
        _ = try store.insert(bucket: "customers", record: ["name": "x"])
        #expect(f.calls.isEmpty)
        #expect(h.calls == [1])
        #expect(store.subscriptionCount == 2)
        expectError(.queryNotDefined("nonexistent")) { _ = try store.runQuery("nonexistent") }
        expectError(.queryAlreadyDefined("healthy")) { try store.defineQuery("healthy", config: ["bucket": "customers"]) }
        expectError(.queryAlreadyDefined("fragile")) { try store.defineQuery("fragile", config: ["bucket": "customers"]) }
        #expect(StoreError.queryNotDefined("q").message == "Query \"q\" is not defined")
        #expect(StoreError.queryAlreadyDefined("q").message == "Query \"q\" is already defined")
        // a subscription whose first evaluation fails is not created
        #expect(catchError { _ = try store.subscribe(query: "fragile", listener: { _ in }) } == .invalidQuery("boom"))
        #expect(store.subscriptionCount == 2)
    }

    @Test func s21_stableResultSlices() throws {
        let store = makeStore()
        try store.defineBucket("scores", config: Fixture.scores)
        try store.defineQuery("top3", config: ["bucket": "scores", "first": 3])
        try store.defineQuery("total", config: ["bucket": "scores", "aggregate": ["function": "sum", "field": "score"]])
        try store.defineQuery("mean", config: ["bucket": "scores", "aggregate": ["function": "avg", "field": "score"]])
        try store.defineQuery("page", config: ["bucket": "scores", "page": ["limit": 2]])
        let top = Recorder(), total = Recorder(), mean = Recorder(), page = Recorder()
        _ = try store.subscribe(query: "top3", listener: top.listener)
        _ = try store.subscribe(query: "total", listener: total.listener)
        _ = try store.subscribe(query: "mean", listener: mean.listener)
        _ = try store.subscribe(query: "page", listener: page.listener)
        let first = try store.insert(bucket: "scores", record: ["name": "a", "score": 100])
        #expect(page.calls == [["records": [.object(first)], "hasMore": false, "nextCursor": 1]])
        _ = try store.insert(bucket: "scores", record: ["name": "b", "score": 200])
        _ = try store.insert(bucket: "scores", record: ["name": "c", "score": 0])
        _ = try store.insert(bucket: "scores", record: ["name": "d", "score": 0])
        #expect(top.calls.map { $0.arrayValue!.count } == [1, 2, 3])
        #expect(total.calls == [100, 300])
        _ = try store.update(bucket: "scores", key: 1, changes: ["score": 500])
        #expect(mean.calls.last == 175)
    }

    @Test func s22_transactionReadYourOwnWrites() throws {
        let store = makeStore()
        try store.defineBucket("customers", config: Fixture.customers)
        let stored = try store.insert(bucket: "customers", record: ["name": "Stored", "tier": "vip"])
        let gone = try store.insert(bucket: "customers", record: ["name": "Gone"])
        try store.transaction { (tx: Transaction) throws(StoreError) in
            let a = try tx.insert(bucket: "customers", record: ["name": "A", "tier": "vip"])
            _ = try tx.insert(bucket: "customers", record: ["name": "B"])
            #expect(try tx.get(bucket: "customers", key: a["id"]!) == a)
            #expect(try tx.where(bucket: "customers", filter: ["tier": "vip"]).field("name") == ["Stored", "A"])
            #expect(try tx.findOne(bucket: "customers", filter: ["name": "B"]) != nil)
            #expect(try tx.count(bucket: "customers") == 4)
            let u = try tx.update(bucket: "customers", key: stored["id"]!, changes: ["name": "Changed"])
            #expect(try tx.get(bucket: "customers", key: stored["id"]!) == u)
            try tx.delete(bucket: "customers", key: gone["id"]!)
            #expect(try tx.get(bucket: "customers", key: gone["id"]!) == nil)
            #expect(try tx.all(bucket: "customers").field("name") == ["Changed", "A", "B"])
            #expect(try store.count(bucket: "customers") == 2)  // nothing visible outside yet
        }
        #expect(try store.all(bucket: "customers").field("name") == ["Changed", "A", "B"])
    }

    @Test func s23_transactionRollbackOnError() throws {
        let store = makeStore()
        try store.defineBucket("customers", config: Fixture.customers)
        let r = try store.insert(bucket: "customers", record: ["name": "R"])
        var events = 0
        store.addEventListener { _ in events += 1 }
        let err = catchError {
            try store.transaction { (tx: Transaction) throws(StoreError) in
                _ = try tx.update(bucket: "customers", key: r["id"]!, changes: ["name": "X"])
                try tx.delete(bucket: "customers", key: r["id"]!)
                throw .invalidQuery("abort")
            }
        }
        #expect(err == .invalidQuery("abort"))
        #expect(try store.get(bucket: "customers", key: r["id"]!) == r)
        #expect(events == 0)
    }

    @Test func s24_optimisticConflict() throws {
        let store = makeStore()
        try store.defineBucket("scores", config: Fixture.scores)
        let r = try store.insert(bucket: "scores", record: ["name": "r", "score": 10])
        let err = catchError {
            try store.transaction { (tx: Transaction) throws(StoreError) in
                _ = try tx.update(bucket: "scores", key: r["id"]!, changes: ["score": 20])
                _ = try store.update(bucket: "scores", key: r["id"]!, changes: ["score": 50])
            }
        }
        #expect(err == .transactionConflict(bucket: "scores", key: 1, detail: "Version mismatch: expected 1, got 2"))
        #expect(err?.code == "CONFLICT")
        #expect(err?.details == ["bucket": "scores", "key": 1])
        #expect(err?.message == "Transaction conflict in bucket \"scores\" for key \"1\": Version mismatch: expected 1, got 2")
        let now = try #require(try store.get(bucket: "scores", key: 1))
        #expect(now["score"] == 50 && now["_version"] == 2)
    }

    @Test func s25_crossBucketRollback() throws {
        let store = makeStore()
        try store.defineBucket("customers", config: Fixture.customers)
        try store.defineBucket("orders", config: Fixture.orders)
        let c = try store.insert(bucket: "customers", record: ["name": "C", "email": "c@x.cz"])
        let o = try store.insert(bucket: "orders", record: ["customerId": "c", "amount": 1, "items": []])
        let err = catchError {
            try store.transaction { (tx: Transaction) throws(StoreError) in
                _ = try tx.update(bucket: "customers", key: c["id"]!, changes: ["name": "C2"])
                _ = try tx.update(bucket: "orders", key: o["id"]!, changes: ["amount": 2])
                _ = try store.update(bucket: "orders", key: o["id"]!, changes: ["amount": 3])
            }
        }
        #expect(err?.name == "TransactionConflictError")
        #expect(try store.get(bucket: "customers", key: c["id"]!) == c)

        _ = try store.insert(bucket: "customers", record: ["name": "D", "email": "d@x.cz"])
        try store.defineBucket("accounts", config: ["key": "id", "schema": ["id": ["type": "string"], "email": ["type": "string", "unique": true]]])
        _ = try store.insert(bucket: "accounts", record: ["id": "a1", "email": "taken"])
        let before = try store.all(bucket: "customers")
        let err2 = catchError {
            try store.transaction { (tx: Transaction) throws(StoreError) in
                _ = try tx.update(bucket: "customers", key: c["id"]!, changes: ["name": "C3"])
                _ = try tx.insert(bucket: "customers", record: ["name": "New", "email": "new@x.cz"])
                _ = try tx.insert(bucket: "accounts", record: ["id": "a2", "email": "taken"])
            }
        }
        #expect(err2 == .uniqueConstraint(bucket: "accounts", field: "email", value: "taken"))
        #expect(try store.all(bucket: "customers") == before)
        #expect(try store.findOne(bucket: "customers", filter: ["email": "new@x.cz"]) == nil)
        #expect(try store.get(bucket: "customers", key: c["id"]!)?["_version"] == 1)
    }

    @Test func s26_transactionEventsAndReactivity() throws {
        let store = makeStore()
        try store.defineBucket("customers", config: Fixture.customers)
        try store.defineBucket("orders", config: Fixture.orders)
        try store.defineQuery("allCustomers", config: ["bucket": "customers"])
        let rec = Recorder()
        _ = try store.subscribe(query: "allCustomers", listener: rec.listener)
        var events: [String] = []
        store.addEventListener { events.append($0.topic) }
        try store.transaction { (tx: Transaction) throws(StoreError) in
            _ = try tx.insert(bucket: "customers", record: ["name": "A"])
            _ = try tx.insert(bucket: "orders", record: ["customerId": "A", "amount": 1, "items": []])
            _ = try tx.insert(bucket: "customers", record: ["name": "B"])
            #expect(events.isEmpty)
        }
        #expect(events == ["bucket.customers.inserted", "bucket.customers.inserted", "bucket.orders.inserted"])
        #expect(rec.calls.count == 1 && rec.calls[0].arrayValue?.count == 2)
        events = []
        try store.transaction { (_: Transaction) throws(StoreError) in }
        try store.transaction { (tx: Transaction) throws(StoreError) in _ = try tx.all(bucket: "customers") }
        #expect(events.isEmpty)
        // insert then delete: net zero
        try store.transaction { (tx: Transaction) throws(StoreError) in
            let t = try tx.insert(bucket: "customers", record: ["name": "T"])
            try tx.delete(bucket: "customers", key: t["id"]!)
        }
        #expect(events.isEmpty)
        #expect(try store.count(bucket: "customers") == 2)
        // three updates of one record
        let a = try #require(try store.findOne(bucket: "customers", filter: ["name": "A"]))
        try store.transaction { (tx: Transaction) throws(StoreError) in
            for n in ["A1", "A2", "A3"] { _ = try tx.update(bucket: "customers", key: a["id"]!, changes: ["name": .string(n)]) }
        }
        let a3 = try store.get(bucket: "customers", key: a["id"]!)
        #expect(a3?["name"] == "A3" && a3?["_version"] == 4)
        // autoincrement inside transactions
        try store.defineBucket("orders2", config: Fixture.orders)
        let ids = try store.transaction { (tx: Transaction) throws(StoreError) -> [JSON] in
            [try tx.insert(bucket: "orders2", record: ["customerId": "x", "amount": 1, "items": []])["id"]!,
             try tx.insert(bucket: "orders2", record: ["customerId": "x", "amount": 1, "items": []])["id"]!]
        }
        #expect(ids == [1, 2])
        #expect(try store.insert(bucket: "orders2", record: ["customerId": "x", "amount": 1, "items": []])["id"] == 3)
        let err = catchError { try store.transaction { (tx: Transaction) throws(StoreError) in _ = try tx.get(bucket: "nonexistent", key: 1) } }
        #expect(err == .bucketNotDefined("nonexistent"))
        #expect(err?.message == "Bucket \"nonexistent\" is not defined")
    }

    @Test func s27_ttl() throws {
        let clock = TestClock()
        let store = makeStore(clock: clock)
        try store.defineBucket("sessions", config: ["key": "id", "schema": ["id": ["type": "string", "generated": "uuid"]], "ttl": 100])
        try store.defineBucket("long", config: ["key": "id", "schema": ["id": ["type": "string", "generated": "uuid"]], "ttl": "1h"])
        try store.defineBucket("plain", config: ["key": "id", "schema": ["id": ["type": "string", "generated": "uuid"]]])
        try store.defineQuery("sessions", config: ["bucket": "sessions"])
        let rec = Recorder()
        _ = try store.subscribe(query: "sessions", listener: rec.listener)
        let s = try store.insert(bucket: "sessions", record: [:])
        #expect(s["_expiresAt"] == .int(clock.now + 100))
        let l1 = try store.insert(bucket: "long", record: [:])
        #expect(l1["_expiresAt"] == .int(clock.now + 3_600_000))
        _ = try store.insert(bucket: "long", record: ["_expiresAt": .int(clock.now + 50)])
        #expect(try store.insert(bucket: "plain", record: [:])["_expiresAt"] == nil)
        _ = try store.insert(bucket: "plain", record: ["_expiresAt": .int(clock.now - 1)])
        #expect(store.purgeExpired() == 0)
        clock.advance(150)
        #expect(store.purgeExpired() == 2)
        #expect(try store.count(bucket: "sessions") == 0)
        #expect(try store.count(bucket: "long") == 1)
        #expect(try store.count(bucket: "plain") == 2)  // buckets without ttl are never purged
        #expect(rec.calls.count == 2 && rec.calls[1] == [])
    }

    @Test func s28_maxSize() throws {
        let clock = TestClock()
        let store = makeStore(clock: clock)
        let schema: JSON = ["id": ["type": "string"], "tag": ["type": "string"]]
        try store.defineBucket("cap3", config: ["key": "id", "schema": schema, "indexes": ["tag"], "maxSize": 3])
        var deleted: [JSON] = []
        store.addEventListener(pattern: "bucket.cap3.deleted") { deleted.append($0.key) }
        for k in ["a", "b", "c", "d"] {
            _ = try store.insert(bucket: "cap3", record: ["id": .string(k), "tag": .string(k)])
            clock.advance(1)
        }
        #expect(try store.all(bucket: "cap3").field("id") == ["b", "c", "d"])
        #expect(deleted == ["a"])
        #expect(try store.where(bucket: "cap3", filter: ["tag": "a"]).isEmpty)
        try store.defineBucket("cap1", config: ["key": "id", "schema": schema, "maxSize": 1])
        for k in ["a", "b", "c"] { _ = try store.insert(bucket: "cap1", record: ["id": .string(k)]) }
        #expect(try store.all(bucket: "cap1").field("id") == ["c"])
        try store.defineBucket("both", config: ["key": "id", "schema": schema, "maxSize": 3, "ttl": 100])
        for k in ["a", "b", "c", "d"] { _ = try store.insert(bucket: "both", record: ["id": .string(k)]) }
        #expect(try store.count(bucket: "both") == 3)
        clock.advance(150)
        #expect(store.purgeExpired() == 3)
        try store.defineBucket("cap2", config: ["key": "id", "schema": schema, "maxSize": 2])
        try store.defineQuery("cap2", config: ["bucket": "cap2"])
        let rec = Recorder()
        _ = try store.subscribe(query: "cap2", listener: rec.listener)
        for k in ["a", "b", "c"] { _ = try store.insert(bucket: "cap2", record: ["id": .string(k)]) }
        #expect(rec.calls.count == 3)
        #expect(rec.calls[2].arrayValue?.map { $0["id"]! } == ["b", "c"])
    }

    @Test func s30_statsAndBucketLifecycle() throws {
        let empty = Store(name: "stats-empty", ttlCheckIntervalMs: 0, nowMs: { 0 })
        #expect(empty.stats() == [
            "name": "stats-empty", "buckets": ["count": 0, "names": []],
            "records": ["total": 0, "perBucket": [:]], "indexes": ["total": 0, "perBucket": [:]],
            "queries": ["defined": 0, "activeSubscriptions": 0], "persistence": ["enabled": false],
            "ttl": ["enabled": false, "checkIntervalMs": 0],
        ])
        let timed = Store(name: "t", ttlCheckIntervalMs: 2000, nowMs: { 0 })
        #expect(timed.stats()["ttl"] == ["enabled": true, "checkIntervalMs": 2000])

        let store = makeStore()
        try store.defineBucket("customers", config: Fixture.customers)  // 2 indexes
        try store.defineBucket("orders", config: Fixture.orders)  // 1 index
        try store.defineBucket("plain", config: ["key": "id", "schema": ["id": ["type": "string"]]])
        try store.defineBucket("uniq", config: ["key": "id", "schema": ["id": ["type": "string"], "code": ["type": "string", "unique": true]]])
        _ = try store.insert(bucket: "customers", record: ["name": "a"])
        let b = try store.insert(bucket: "customers", record: ["name": "b"])
        try store.delete(bucket: "customers", key: b["id"]!)
        _ = try store.insert(bucket: "orders", record: ["customerId": "x", "amount": 1, "items": []])
        let s = store.stats()
        #expect(s["buckets"] == ["count": 4, "names": ["customers", "orders", "plain", "uniq"]])
        #expect(s["records"] == ["total": 2, "perBucket": ["customers": 1, "orders": 1, "plain": 0, "uniq": 0]])
        #expect(s["indexes"] == ["total": 4, "perBucket": ["customers": 2, "orders": 1, "plain": 0, "uniq": 1]])
        try store.defineQuery("q", config: ["bucket": "orders"])
        let (id, _) = try store.subscribe(query: "q", listener: { _ in })
        #expect(store.stats()["queries"] == ["defined": 1, "activeSubscriptions": 1])
        store.unsubscribe(id)
        #expect(store.stats()["queries"] == ["defined": 1, "activeSubscriptions": 0])
        _ = try store.subscribe(query: "q", listener: { _ in })
        #expect(store.dropBucket("orders"))
        #expect(store.subscriptionCount == 0)  // dependent subscription ended
        #expect(!store.dropBucket("orders"))
        #expect(store.stats()["buckets"]?["names"] == ["customers", "plain", "uniq"])
        expectError(.bucketNotDefined("orders")) { _ = try store.all(bucket: "orders") }
        try store.defineBucket("orders", config: Fixture.orders)
        #expect(try store.count(bucket: "orders") == 0)
        expectError(.bucketAlreadyExists("orders")) { try store.defineBucket("orders", config: Fixture.orders) }
        #expect(StoreError.bucketAlreadyExists("orders").message == "Bucket \"orders\" already exists")
        let keyErr = catchError { try store.defineBucket("bad", config: ["key": "missing", "schema": ["id": ["type": "string"]]]) }
        #expect(keyErr?.message == "Key field \"missing\" does not exist in schema for bucket \"bad\"")
        #expect(keyErr?.code == "INTERNAL_ERROR")
        let ixErr = catchError { try store.defineBucket("bad", config: ["key": "id", "schema": ["id": ["type": "string"]], "indexes": ["ghost"]]) }
        #expect(ixErr?.message == "Index field \"ghost\" does not exist in schema for bucket \"bad\"")
        #expect(!store.hasBucket("bad"))
    }
}
