import NoexJSON
import Testing

@testable import NoexStore

/// The insert path claims the key's place in the table with its existence check and gives it
/// back when a later check fails; it builds no events when nobody reads them. These tests
/// check that neither is observable: a failed insert changes nothing, and readers added later
/// see the same store as readers present from the start.
@Suite struct InsertPathTests {
    func store() throws -> Store {
        let s = makeStore()
        try s.defineBucket("items", config: ["key": "id", "schema": [
            "id": ["type": "string"], "sku": ["type": "string", "unique": true], "n": ["type": "number"],
        ]])
        return s
    }

    @Test func aFailedUniqueCheckGivesTheKeyBack() throws {
        let s = try store()
        try s.insert(bucket: "items", record: ["id": "a", "sku": "x"])
        let failed = catchError { try s.insert(bucket: "items", record: ["id": "b", "sku": "x"]) }
        #expect(failed?.name == "UniqueConstraintError")
        #expect(try s.get(bucket: "items", key: "b") == nil)
        #expect(try s.count(bucket: "items") == 1)
        try s.insert(bucket: "items", record: ["id": "c", "sku": "y"])
        try s.insert(bucket: "items", record: ["id": "b", "sku": "z"])  // the key is free again
        #expect(try s.all(bucket: "items").map { $0["id"]! } == ["a", "c", "b"])
        #expect(catchError { try s.insert(bucket: "items", record: ["id": "b"]) }?.name == "RecordAlreadyExistsError")
    }

    /// A record that refers to its own key: the reference is checked before the record is in
    /// the table, as it always was.
    @Test func aRecordCannotReferToItself() throws {
        let s = makeStore()
        try s.defineBucket("nodes", config: ["key": "id", "schema": [
            "id": ["type": "string"], "next": ["type": "string", "ref": "nodes"],
        ]])
        #expect(catchError { try s.insert(bucket: "nodes", record: ["id": "a", "next": "a"]) }?.name == "ReferentialIntegrityError")
        #expect(try s.count(bucket: "nodes") == 0)
        try s.insert(bucket: "nodes", record: ["id": "a"])
        try s.insert(bucket: "nodes", record: ["id": "b", "next": "a"])
        #expect(try s.count(bucket: "nodes") == 2)
    }

    /// Inserts made while nobody listened are seen by a later subscription and a later
    /// listener sees the inserts after it, with the same records the inserts returned.
    @Test func readersAddedLaterSeeEverything() throws {
        let s = try store()
        for i in 0..<5 { try s.insert(bucket: "items", record: ["id": .string("r\(i)"), "n": .int(Int64(i))]) }
        try s.defineQuery("all", config: ["bucket": "items"])
        var results: [Int] = []
        _ = try s.subscribe(query: "all") { results.append($0.arrayValue!.count) }
        var events: [StoreEvent] = []
        _ = s.addEventListener { events.append($0) }
        let returned = try s.insert(bucket: "items", record: ["id": "r5", "n": 5])
        #expect(results == [6])
        #expect(events == [.inserted(bucket: "items", key: "r5", record: returned)])
        #expect(returned.jsonString == #"{"id":"r5","n":5,"_version":1,"_createdAt":1700000000000,"_updatedAt":1700000000000}"#)
    }

    /// While a dispatch runs, an insert made when no listener or subscription is left is still
    /// queued: a listener added before the queued batch is dispatched receives it.
    @Test func anInsertDuringADispatchReachesALaterListener() throws {
        let s = try store()
        var later: [JSON] = []
        var first: ListenerID = 0
        first = s.addEventListener { _ in
            _ = s.removeEventListener(first)
            _ = try? s.insert(bucket: "items", record: ["id": "inner"])
            _ = s.addEventListener { later.append($0.key) }
        }
        try s.insert(bucket: "items", record: ["id": "outer"])
        #expect(later == ["inner"])
    }

    /// Client-sent metadata is overwritten in place, generated fields and defaults come before
    /// the metadata, in schema order.
    @Test func metadataAndGeneratedFieldsKeepTheirOrder() throws {
        let s = makeStore()
        try s.defineBucket("g", config: ["key": "id", "schema": [
            "id": ["type": "number", "generated": "autoincrement"], "tier": ["type": "string", "default": "basic"],
            "at": ["type": "date", "generated": "timestamp"],
        ]])
        let r = try s.insert(bucket: "g", record: ["_updatedAt": 5, "x": true, "_version": 9])
        #expect(r.jsonString == #"{"_updatedAt":1700000000000,"x":true,"_version":1,"id":1,"at":1700000000000,"tier":"basic","_createdAt":1700000000000}"#)
    }

    /// The store remembers the bucket it found last: a bucket dropped and defined again under
    /// the same name is the new one, and a dropped bucket is gone.
    @Test func aRedefinedBucketIsTheNewOne() throws {
        let s = try store()
        try s.insert(bucket: "items", record: ["id": "a", "n": 1])
        #expect(s.dropBucket("items"))
        #expect(catchError { _ = try s.get(bucket: "items", key: "a") }?.name == "BucketNotDefinedError")
        try s.defineBucket("items", config: ["key": "id", "schema": ["id": ["type": "string"], "n": ["type": "string"]]])
        #expect(try s.get(bucket: "items", key: "a") == nil)
        #expect(catchError { try s.insert(bucket: "items", record: ["id": "a", "n": 1]) }?.name == "ValidationError")
        try s.insert(bucket: "items", record: ["id": "a", "n": "one"])
        #expect(try s.count(bucket: "items") == 1)
    }
}
