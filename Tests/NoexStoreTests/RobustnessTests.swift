import NoexJSON
import Testing

@testable import NoexStore

/// Bad input never corrupts state: every failed call leaves the store exactly as before.
@Suite struct RobustnessTests {
    func state(_ s: Store) throws -> JSON {
        .array(try s.bucketNames.map { n in
            ["records": .array(try s.all(bucket: n).map(JSON.object)), "counter": .int(s.buckets[n]!.counter),
             "stats": .object(s.stats())]
        })
    }

    @Test func failedInsertsAndUpdatesChangeNothing() throws {
        let clock = TestClock()
        let s = makeStore(clock: clock)
        try s.defineBucket("c", config: [
            "key": "id",
            "schema": ["id": ["type": "number", "generated": "autoincrement"], "email": ["type": "string", "unique": true],
                       "n": ["type": "number", "max": 10]],
            "maxSize": 2, "indexes": ["n"],
        ])
        _ = try s.insert(bucket: "c", record: ["email": "a", "n": 1])
        _ = try s.insert(bucket: "c", record: ["email": "b", "n": 2])
        let before = try state(s)
        var events = 0
        s.addEventListener { _ in events += 1 }
        // unique violation at capacity: no eviction, no counter gap (both quirks fixed)
        #expect(catchError { _ = try s.insert(bucket: "c", record: ["email": "b"]) }?.name == "UniqueConstraintError")
        #expect(catchError { _ = try s.insert(bucket: "c", record: ["n": 11]) }?.name == "ValidationError")
        #expect(catchError { _ = try s.insert(bucket: "c", record: ["id": 1]) }?.name == "RecordAlreadyExistsError")
        #expect(catchError { _ = try s.update(bucket: "c", key: 1, changes: ["email": "b"]) }?.name == "UniqueConstraintError")
        #expect(catchError { _ = try s.update(bucket: "c", key: 1, changes: ["n": "x"]) }?.name == "ValidationError")
        #expect(catchError { _ = try s.update(bucket: "c", key: 9, changes: [:]) }?.name == "RecordNotFoundError")
        #expect(catchError { try s.updateBucket("c", updates: ["addFields": ["email": ["type": "string"]]]) }?.code == "INTERNAL_ERROR")
        #expect(catchError { try s.updateBucket("c", updates: ["ttl": "never"]) }?.code == "INTERNAL_ERROR")
        #expect(try state(s) == before)
        #expect(events == 0)
        // the evicting insert works when it is valid, and the unique value of the evicted record is free
        _ = try s.insert(bucket: "c", record: ["email": "a2"])
        #expect(try s.all(bucket: "c").field("email") == ["b", "a2"])
        #expect(try s.all(bucket: "c").field("id") == [2, 3])
    }

    @Test func unknownBucketsEverywhere() throws {
        let s = makeStore()
        let e = StoreError.bucketNotDefined("nope")
        expectError(e) { _ = try s.insert(bucket: "nope", record: [:]) }
        expectError(e) { _ = try s.get(bucket: "nope", key: 1) }
        expectError(e) { _ = try s.update(bucket: "nope", key: 1, changes: [:]) }
        expectError(e) { _ = try s.delete(bucket: "nope", key: 1) }
        expectError(e) { try s.clear(bucket: "nope") }
        expectError(e) { _ = try s.where(bucket: "nope", filter: [:]) }
        expectError(e) { _ = try s.count(bucket: "nope") }
        expectError(e) { _ = try s.paginate(bucket: "nope", limit: 1) }
        expectError(e) { _ = try s.sum(bucket: "nope", field: "x") }
        expectError(e) { try s.updateBucket("nope", updates: [:]) }
        #expect(e.code == "BUCKET_NOT_DEFINED" && e.message == "Bucket \"nope\" is not defined")
        #expect(s.getBucketSchema("nope") == nil)
    }

    @Test func updateBucket() throws {
        let s = makeStore()
        let config: JSONObject = ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"], "name": ["type": "string"]]]
        try s.defineBucket("b", config: config)
        #expect(s.getBucketSchema("b") == config)
        _ = try s.insert(bucket: "b", record: ["name": "a", "tier": "vip"])
        _ = try s.insert(bucket: "b", record: ["name": "b", "tier": "basic"])
        try s.updateBucket("b", updates: ["addFields": ["tier": ["type": "string", "enum": ["basic", "vip"]]], "addIndexes": ["tier"]])
        #expect(s.stats()["indexes"]?["perBucket"]?["b"] == 1)
        #expect(try s.where(bucket: "b", filter: ["tier": "vip"]).field("name") == ["a"])
        #expect(catchError { _ = try s.insert(bucket: "b", record: ["tier": "gold"]) }?.name == "ValidationError")
        #expect(try s.insert(bucket: "b", record: ["tier": "vip"])["id"] == 3)  // counter preserved
        try s.updateBucket("b", updates: ["addIndexes": ["tier"]])  // no duplicate
        #expect(s.stats()["indexes"]?["perBucket"]?["b"] == 1)
        try s.updateBucket("b", updates: ["ttl": "1s"])
        #expect(try s.insert(bucket: "b", record: [:])["_expiresAt"] != nil)
        try s.updateBucket("b", updates: ["ttl": .null])
        #expect(try s.insert(bucket: "b", record: [:])["_expiresAt"] == nil)
        #expect(catchError { try s.updateBucket("b", updates: ["addIndexes": ["ghost"]]) }?.message
            == "Index field \"ghost\" does not exist in schema for bucket \"b\"")
        #expect(catchError { try s.updateBucket("b", updates: ["addFields": ["name": ["type": "string"]]]) }?.message
            == "Field \"name\" already exists in bucket \"b\"")
        // a new unique field that existing data violates is refused, bucket unchanged
        _ = try s.update(bucket: "b", key: 1, changes: ["code": "X"])
        _ = try s.update(bucket: "b", key: 2, changes: ["code": "X"])
        #expect(catchError { try s.updateBucket("b", updates: ["addFields": ["code": ["type": "string", "unique": true]]]) }?.name
            == "UniqueConstraintError")
        #expect(s.getBucketSchema("b")?["schema"]?["code"] == nil)
    }

    @Test func hugeAndOddNumbersDoNotTrap() throws {
        let s = makeStore()
        try s.defineBucket("h", config: ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"]], "maxSize": 1e300])
        try s.defineBucket("neg", config: ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"]], "maxSize": -5])
        for _ in 0..<3 {
            _ = try s.insert(bucket: "h", record: [:])
            _ = try s.insert(bucket: "neg", record: [:])
        }
        #expect(try s.count(bucket: "h") == 3)
        #expect(try s.count(bucket: "neg") == 1)
        #expect(try s.paginate(bucket: "h", after: 1, limit: .max).records.count == 2)
        #expect(try s.paginate(bucket: "h", limit: .max).hasMore == false)
        #expect(try s.first(bucket: "h", n: .max).count == 3)
        #expect(try s.last(bucket: "h", n: .max).count == 3)
        #expect(catchError { try s.defineQuery("huge", config: ["bucket": "h", "limit": 1e300]) }?.code == "VALIDATION_ERROR")
        try s.defineQuery("big", config: ["bucket": "h", "limit": 9_223_372_036_854_775_807, "offset": 9_223_372_036_854_775_807])
        #expect(try s.runQuery("big") == [])
        #expect(try s.where(bucket: "h", filter: ["id": ["$gt": 1e308, "$between": [-1e308, "x"]]]) == [])
    }

    @Test func recordTableCompactionKeepsOrder() throws {
        let s = makeStore()
        try s.defineBucket("t", config: ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"]]])
        for _ in 0..<200 { _ = try s.insert(bucket: "t", record: [:]) }
        for k in stride(from: 1, through: 180, by: 1) where k % 10 != 0 { try s.delete(bucket: "t", key: .int(Int64(k))) }
        let expected: [JSON] = (1...200).filter { $0 > 180 || $0 % 10 == 0 }.map { .int(Int64($0)) }
        #expect(try s.all(bucket: "t").field("id") == expected)
        #expect(s.buckets["t"]!.table.slots.count < 100)  // compacted
        #expect(try s.last(bucket: "t", n: 2).field("id") == [199, 200])
        #expect(try s.paginate(bucket: "t", after: 180, limit: 2).records.field("id") == [181, 182])
        // pagination across tombstones, and the insertion-order fast path against the generic one
        for k in 181...190 where k % 2 == 1 { try s.delete(bucket: "t", key: .int(Int64(k))) }
        var cursor: JSON? = nil
        var seen: [JSON] = []
        for _ in 0..<100 {
            let p = try s.paginate(bucket: "t", after: cursor, limit: 3)
            seen += p.records.field("id")
            #expect(p.hasMore == (seen.count < (try s.count(bucket: "t"))))
            guard p.hasMore else { break }
            cursor = p.nextCursor
        }
        #expect(seen == (try s.all(bucket: "t").field("id")))
        #expect(try s.paginate(bucket: "t", after: 200, limit: 3) == Page(records: [], hasMore: false, nextCursor: nil))
        #expect(try s.paginate(bucket: "t", after: 190, limit: 0) == Page(records: [], hasMore: true, nextCursor: nil))
        #expect(try s.paginate(bucket: "t", after: 181, limit: 3).records.isEmpty)  // deleted cursor
        #expect(try s.paginate(bucket: "t", after: [180], limit: 3).records.isEmpty)
        #expect(try s.last(bucket: "t", n: 3).field("id") == [198, 199, 200])
    }
}
