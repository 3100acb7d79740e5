import NoexJSON
import Testing

@testable import NoexStore

@Suite struct TransactionTests {
    func store() throws -> Store {
        let store = makeStore()
        try store.defineBucket("users", config: Fixture.serverUsers)
        try store.defineBucket("products", config: [
            "key": "id",
            "schema": ["id": ["type": "string", "generated": "uuid"], "title": ["type": "string", "required": true],
                       "price": ["type": "number", "default": 0], "stock": ["type": "number", "default": 0],
                       "sku": ["type": "string", "unique": true]],
        ])
        try store.defineBucket("logs", config: ["key": "id", "schema": ["id": ["type": "string", "generated": "uuid"], "action": ["type": "string", "required": true]]])
        return store
    }

    /// Everything observable about the store's data, for before/after comparisons.
    func snapshot(_ s: Store) throws -> [JSON] {
        try s.bucketNames.map { n in
            ["bucket": .string(n), "records": .array(try s.all(bucket: n).map(JSON.object)),
             "counter": .int(s.buckets[n]!.counter)]
        }
    }

    @Test func wireTransactionResults() throws {
        let s = try store()
        let ops: [JSON] = [
            ["op": "insert", "bucket": "users", "data": ["name": "Alice", "role": "admin"]],
            ["op": "insert", "bucket": "users", "data": ["name": "Bob"]],
            ["op": "count", "bucket": "users"],
            ["op": "where", "bucket": "users", "filter": ["role": "admin"]],
            ["op": "get", "bucket": "users", "key": "missing"],
            ["op": "delete", "bucket": "users", "key": "missing"],
            ["op": "findOne", "bucket": "users", "filter": ["name": "Bob"]],
        ]
        let parsed = ops.compactMap(TransactionOperation.init(json:))
        #expect(parsed.count == ops.count)
        var pushes: [JSON] = []
        try s.defineQuery("all-users", config: ["bucket": "users"])
        _ = try s.subscribe(query: "all-users") { pushes.append($0) }
        let results = try s.runTransaction(parsed)
        #expect(results.count == 7)
        #expect(results[0]["name"] == "Alice" && results[0]["_version"] == 1)
        #expect(results[2] == 2)
        #expect(results[3].arrayValue?.map { $0["name"]! } == ["Alice"])
        #expect(results[4] == .null)
        #expect(results[5] == ["deleted": true])
        #expect(results[6]["name"] == "Bob")
        #expect(pushes.count == 1 && pushes[0].arrayValue?.count == 2)
        #expect(TransactionOperation(json: ["op": "get", "bucket": "users"]) == nil)
        #expect(TransactionOperation(json: ["op": "nope", "bucket": "users"]) == nil)
    }

    @Test func updateThenGetSeesUpdate() throws {
        let s = try store()
        let u = try s.insert(bucket: "users", record: ["name": "A"])
        let results = try s.runTransaction([.update(bucket: "users", key: u["id"]!, data: ["name": "B"]), .get(bucket: "users", key: u["id"]!)])
        #expect(results[1]["name"] == "B" && results[1]["_version"] == 2)
    }

    @Test func failedTransactionLeavesStoreExactlyAsBefore() throws {
        let s = try store()
        let p = try s.insert(bucket: "products", record: ["title": "Widget", "price": 10, "stock": 5, "sku": "W"])
        let a = try s.insert(bucket: "users", record: ["name": "A"])
        _ = try s.insert(bucket: "users", record: ["name": "B"])
        _ = try s.insert(bucket: "products", record: ["title": "Other", "sku": "O"])
        let before = try snapshot(s)
        var events = 0
        s.addEventListener { _ in events += 1 }
        // validation failure inside (server T21)
        var err = catchError { _ = try s.runTransaction([.update(bucket: "products", key: p["id"]!, data: ["stock": 4]), .insert(bucket: "users", data: [:])]) }
        #expect(err?.code == "VALIDATION_ERROR")
        // unique failure at commit after a delete and an update were applied in another bucket
        err = catchError {
            _ = try s.runTransaction([
                .delete(bucket: "users", key: a["id"]!), .update(bucket: "products", key: p["id"]!, data: ["stock": 1]),
                .insert(bucket: "products", data: ["title": "Dup", "sku": "O"]),
            ])
        }
        #expect(err == .uniqueConstraint(bucket: "products", field: "sku", value: "O"))
        // the users bucket commits first (delete), then products fails: the delete is undone in place
        err = catchError {
            _ = try s.runTransaction([
                .delete(bucket: "users", key: a["id"]!), .insert(bucket: "products", data: ["title": "Dup2", "sku": "W"]),
            ])
        }
        #expect(err?.name == "UniqueConstraintError")
        // two inserts in one batch with the same unique value
        err = catchError {
            _ = try s.runTransaction([.insert(bucket: "products", data: ["title": "1", "sku": "Z"]), .insert(bucket: "products", data: ["title": "2", "sku": "Z"])])
        }
        #expect(err == .uniqueConstraint(bucket: "products", field: "sku", value: "Z"))
        // unknown bucket, update of a missing record
        #expect(catchError { _ = try s.runTransaction([.insert(bucket: "users", data: ["name": "x"]), .insert(bucket: "ghost", data: [:])]) }
            == .bucketNotDefined("ghost"))
        #expect(catchError { _ = try s.runTransaction([.update(bucket: "users", key: "nope", data: ["name": "x"])]) }
            == .recordNotFound(bucket: "users", key: "nope"))
        // inserting an existing key conflicts at commit
        #expect(catchError { _ = try s.runTransaction([.insert(bucket: "users", data: ["id": a["id"]!, "name": "dup"])]) }
            == .transactionConflict(bucket: "users", key: a["id"]!, detail: "Record with key \"\(a["id"]!.stringValue!)\" already exists"))
        #expect(try snapshot(s) == before)
        #expect(events == 0)
        // indexes are intact: the unique values still collide / are still free as before
        #expect(catchError { _ = try s.insert(bucket: "products", record: ["title": "t", "sku": "W"]) }?.name == "UniqueConstraintError")
        #expect(catchError { _ = try s.insert(bucket: "products", record: ["title": "t", "sku": "Z"]) } == nil)
    }

    @Test func updateThenDeleteWorks() throws {
        let s = try store()
        let a = try s.insert(bucket: "users", record: ["name": "A"])
        _ = try s.runTransaction([.update(bucket: "users", key: a["id"]!, data: ["name": "B"]), .delete(bucket: "users", key: a["id"]!)])
        #expect(try s.get(bucket: "users", key: a["id"]!) == nil)
        // but a concurrent change still conflicts
        let b = try s.insert(bucket: "users", record: ["name": "B"])
        let err = catchError {
            try s.transaction { (tx: Transaction) throws(StoreError) in
                _ = try tx.update(bucket: "users", key: b["id"]!, changes: ["name": "C"])
                try tx.delete(bucket: "users", key: b["id"]!)
                _ = try s.update(bucket: "users", key: b["id"]!, changes: ["name": "outside"])
            }
        }
        #expect(err?.code == "CONFLICT")
        #expect(try s.get(bucket: "users", key: b["id"]!)?["name"] == "outside")
    }

    @Test func deleteConflictsAndMissingRecords() throws {
        let s = try store()
        let a = try s.insert(bucket: "users", record: ["name": "A"])
        // a delete of a record that vanished meanwhile is fine
        try s.transaction { (tx: Transaction) throws(StoreError) in
            try tx.delete(bucket: "users", key: a["id"]!)
            try s.delete(bucket: "users", key: a["id"]!)
        }
        // an update of a record deleted meanwhile conflicts
        let b = try s.insert(bucket: "users", record: ["name": "B"])
        let err = catchError {
            try s.transaction { (tx: Transaction) throws(StoreError) in
                _ = try tx.update(bucket: "users", key: b["id"]!, changes: ["name": "C"])
                try s.delete(bucket: "users", key: b["id"]!)
            }
        }
        #expect(err?.message.hasSuffix("not found") == true)
        #expect(err?.code == "CONFLICT")
    }

    @Test func ttlAndMaxSizeApplyToTransactionalInserts() throws {
        let clock = TestClock()
        let s = makeStore(clock: clock)
        try s.defineBucket("cache", config: ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"]], "ttl": 1000, "maxSize": 2])
        _ = try s.insert(bucket: "cache", record: [:])
        clock.advance(1)
        var deleted: [JSON] = []
        s.addEventListener(pattern: "bucket.cache.deleted") { deleted.append($0.key) }
        let r = try s.runTransaction([.insert(bucket: "cache", data: [:]), .insert(bucket: "cache", data: [:])])
        #expect(try s.all(bucket: "cache").field("id") == [2, 3])
        #expect(deleted == [1])
        #expect(try s.get(bucket: "cache", key: 2)?["_expiresAt"] == .int(clock.now + 1000))
        #expect(r[0]["_expiresAt"] == nil)  // the call-time result is the prepared record
    }

    @Test func validationErrorsSurfaceAtCallTime() throws {
        let s = try store()
        var reached = false
        let err = catchError {
            try s.transaction { (tx: Transaction) throws(StoreError) in
                _ = try tx.insert(bucket: "logs", record: ["action": "ok"])
                _ = try tx.insert(bucket: "logs", record: [:])
                reached = true
            }
        }
        #expect(!reached)
        #expect(err?.message == "Validation failed for bucket \"logs\": action: Field is required")
        #expect(try s.count(bucket: "logs") == 0)
    }
}
