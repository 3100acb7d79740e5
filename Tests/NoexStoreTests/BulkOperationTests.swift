import NoexJSON
import Testing

@testable import NoexStore

@Suite struct BulkOperationTests {
    func store() throws -> Store {
        let s = makeStore()
        try s.defineBucket("c", config: [
            "key": "id",
            "schema": ["id": ["type": "number", "generated": "autoincrement"], "email": ["type": "string", "unique": true],
                       "tier": ["type": "string", "default": "basic"], "n": ["type": "number", "max": 100]],
            "indexes": ["tier"],
        ])
        return s
    }

    @Test func insertManyIsAllOrNothing() throws {
        let s = try store()
        let rec = Recorder()
        try s.defineQuery("all", config: ["bucket": "c"])
        _ = try s.subscribe(query: "all", listener: rec.listener)
        #expect(try s.insertMany(bucket: "c", records: []) == [])
        let out = try s.insertMany(bucket: "c", records: [["email": "a"], ["email": "b"]])
        #expect(out.field("id") == [1, 2])
        #expect(rec.calls.count == 1)  // one batch
        let before = try s.all(bucket: "c")
        #expect(catchError { _ = try s.insertMany(bucket: "c", records: [["email": "x"], ["email": "x"]]) }
            == .uniqueConstraint(bucket: "c", field: "email", value: "x"))
        #expect(catchError { _ = try s.insertMany(bucket: "c", records: [["email": "y"], ["email": "a"]]) }?.name == "UniqueConstraintError")
        #expect(catchError { _ = try s.insertMany(bucket: "c", records: [["id": 9], ["id": 9]]) }
            == .duplicateKeyInBatch(bucket: "c", key: 9))
        #expect(StoreError.duplicateKeyInBatch(bucket: "c", key: 9).message == "Duplicate key \"9\" in batch for bucket \"c\"")
        #expect(catchError { _ = try s.insertMany(bucket: "c", records: [["id": 1]]) } == .recordAlreadyExists(bucket: "c", key: 1))
        #expect(catchError { _ = try s.insertMany(bucket: "c", records: [["n": 1], ["n": 101]]) }?.name == "ValidationError")
        #expect(try s.all(bucket: "c") == before)
        #expect(try s.insert(bucket: "c", record: [:])["id"] == 3)  // counter restored after failures
        #expect(rec.calls.count == 2)
    }

    @Test func updateManyDeleteManyUpsert() throws {
        let s = try store()
        _ = try s.insertMany(bucket: "c", records: [["email": "a", "n": 1], ["email": "b", "n": 2], ["email": "c", "n": 3]])
        #expect(try s.updateMany(bucket: "c", filter: ["n": ["$gte": 2]], changes: ["tier": "vip"]) == 2)
        #expect(try s.where(bucket: "c", filter: ["tier": "vip"]).field("id") == [2, 3])
        #expect(try s.updateMany(bucket: "c", filter: ["n": 99], changes: ["tier": "x"]) == 0)
        let before = try s.all(bucket: "c")
        #expect(catchError { _ = try s.updateMany(bucket: "c", filter: [:], changes: ["email": "same"]) }?.name == "UniqueConstraintError")
        #expect(catchError { _ = try s.updateMany(bucket: "c", filter: [:], changes: ["n": 1000]) }?.name == "ValidationError")
        #expect(try s.all(bucket: "c") == before)
        #expect(try s.where(bucket: "c", filter: ["tier": "vip"]).count == 2)
        let up = try s.upsert(bucket: "c", record: ["id": 1, "n": 50])
        #expect(up["_version"] == 2 && up["n"] == 50 && up["email"] == "a")
        let ins = try s.upsert(bucket: "c", record: ["id": 10, "email": "z"])
        #expect(ins["_version"] == 1)
        #expect(try s.deleteMany(bucket: "c", filter: ["tier": "vip"]) == 2)
        #expect(try s.all(bucket: "c").field("id") == [1, 10])
        #expect(try s.deleteMany(bucket: "c", filter: ["tier": "vip"]) == 0)
    }

    @Test func insertManyEvictsForMaxSize() throws {
        let s = makeStore()
        try s.defineBucket("m", config: ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"]], "maxSize": 2])
        _ = try s.insert(bucket: "m", record: [:])
        var events: [String] = []
        s.addEventListener { events.append("\($0.type):\(JSValue.string($0.key))") }
        _ = try s.insertMany(bucket: "m", records: [[:], [:]])
        #expect(try s.all(bucket: "m").field("id") == [2, 3])
        #expect(events == ["deleted:1", "inserted:2", "inserted:3"])
    }
}
