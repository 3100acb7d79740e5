import NoexJSON
import Testing

@testable import NoexStore

/// The store attaches each written record's JSON text (`JSONObject.attachText`) so reads copy
/// bytes. These tests change records in every way the store can and check, after each step,
/// that every stored record serialises to exactly its members' text: a stale text would show
/// here as an old value.
@Suite struct RecordTextTests {
    func store() throws -> Store {
        let s = makeStore()
        try s.defineBucket("users", config: ["key": "id", "schema": [
            "id": ["type": "string"], "name": ["type": "string"], "n": ["type": "number"],
            "sku": ["type": "string", "unique": true],
        ]])
        try s.defineBucket("posts", config: ["key": "id", "schema": [
            "id": ["type": "string"], "userId": ["type": "string", "ref": "users", "onDelete": "set_null"],
        ]])
        return s
    }

    func fresh(_ o: JSONObject) -> String {
        String(decoding: JSONObject(o.map { ($0.key, $0.value) }).serializedBytes, as: UTF8.self)
    }

    /// Every record, read by `get` (which attaches a missing text) and by `all`, serialises to
    /// its members; returns the `get` texts by key for value checks.
    @discardableResult
    func checkAll(_ s: Store, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: String] {
        var texts: [String: String] = [:]
        for name in s.bucketNames {
            for record in try s.all(bucket: name) {
                #expect(String(decoding: record.serializedBytes, as: UTF8.self) == fresh(record), sourceLocation: sourceLocation)
                let key = record["id"]!
                let got = try #require(try s.get(bucket: name, key: key), sourceLocation: sourceLocation)
                #expect(got.attachedText != nil, sourceLocation: sourceLocation)
                let text = String(decoding: got.serializedBytes, as: UTF8.self)
                #expect(text == fresh(got) && got == record, sourceLocation: sourceLocation)
                texts[key.stringValue!] = text
            }
        }
        return texts
    }

    @Test func insertAndUpdateAttachTheNewText() throws {
        let s = try store()
        let inserted = try s.insert(bucket: "users", record: ["id": "a", "name": "Ann", "n": 1])
        #expect(inserted.attachedText != nil)
        #expect(try checkAll(s)["a"]!.contains(#""name":"Ann""#))
        let updated = try s.update(bucket: "users", key: "a", changes: ["name": "Bea", "n": 2])
        #expect(String(decoding: updated.serializedBytes, as: UTF8.self) == fresh(updated))
        let texts = try checkAll(s)
        #expect(texts["a"]!.contains(#""name":"Bea""#) && texts["a"]!.contains(#""_version":2"#))
    }

    @Test func deleteAndReinsertUnderTheSameKey() throws {
        let s = try store()
        _ = try s.insert(bucket: "users", record: ["id": "a", "name": "Old"])
        _ = try checkAll(s)
        #expect(try s.delete(bucket: "users", key: "a"))
        #expect(try s.get(bucket: "users", key: "a") == nil)
        _ = try s.insert(bucket: "users", record: ["id": "a", "name": "New"])
        let text = try checkAll(s)["a"]!
        #expect(text.contains(#""name":"New""#) && !text.contains("Old"))
    }

    @Test func failedTransactionsLeaveTheOldTexts() throws {
        let s = try store()
        _ = try s.insert(bucket: "users", record: ["id": "a", "name": "Ann", "sku": "A"])
        _ = try s.insert(bucket: "users", record: ["id": "b", "name": "Bob", "sku": "B"])
        let before = try checkAll(s)
        // Updates and a delete applied, then a unique conflict rolls everything back.
        #expect(throws: StoreError.self) {
            _ = try s.runTransaction([
                .update(bucket: "users", key: "a", data: ["name": "changed"]),
                .delete(bucket: "users", key: "b"),
                .insert(bucket: "users", data: ["id": "c", "sku": "A"]),
            ])
        }
        #expect(try checkAll(s) == before)
        // A committed transaction: its updates carry the new text.
        _ = try s.runTransaction([.update(bucket: "users", key: "a", data: ["name": "Tx"])])
        #expect(try checkAll(s)["a"]!.contains(#""name":"Tx""#))
    }

    @Test func bulkUpdatesCascadesAndSchemaChanges() throws {
        let s = try store()
        for k in ["a", "b", "c"] { _ = try s.insert(bucket: "users", record: ["id": .string(k), "n": 1]) }
        _ = try s.insert(bucket: "posts", record: ["id": "p", "userId": "a"])
        _ = try checkAll(s)
        #expect(try s.updateMany(bucket: "users", filter: ["n": 1], changes: ["n": 5]) == 3)
        #expect(try checkAll(s).values.allSatisfy { $0.contains(#""n":5"#) || $0.contains(#""userId""#) })
        // set_null rewrites the referring post.
        #expect(try s.delete(bucket: "users", key: "a"))
        #expect(try checkAll(s)["p"]!.contains(#""userId":null"#))
        // updateBucket keeps records as they are (not re-validated, not rewritten); a record
        // inserted afterwards gets the new field's default.
        try s.updateBucket("users", updates: ["addFields": ["tier": ["type": "string", "default": "basic"]]])
        _ = try s.insert(bucket: "users", record: ["id": "d"])
        let texts = try checkAll(s)
        #expect(!texts["b"]!.contains("tier") && texts["d"]!.contains(#""tier":"basic""#))
    }
}
