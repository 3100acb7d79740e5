import NoexJSON
import Testing

@testable import NoexStore

/// `expectedVersion` on updates and deletes, directly and inside transactions.
@Suite struct ExpectedVersionTests {
    func store() throws -> Store {
        let store = makeStore()
        try store.defineBucket("notes", config: ["key": "id", "schema": ["id": ["type": "string"], "text": ["type": "string"]]])
        _ = try store.insert(bucket: "notes", record: ["id": "a", "text": "x"])
        _ = try store.insert(bucket: "notes", record: ["id": "b", "text": "y"])
        return store
    }

    @Test func directUpdateAndDelete() throws {
        let s = try store()
        #expect(try s.update(bucket: "notes", key: "a", changes: ["text": "x2"], expectedVersion: 1)["_version"] == 2)
        #expect(catchError { _ = try s.update(bucket: "notes", key: "a", changes: ["text": "x3"], expectedVersion: 1) }
                == .versionConflict(bucket: "notes", key: "a", expected: 1, actual: 2))
        #expect(catchError { try s.delete(bucket: "notes", key: "a", expectedVersion: 3) }?.code == "CONFLICT")
        #expect(catchError { try s.delete(bucket: "notes", key: "zz", expectedVersion: 1) } == .recordNotFound(bucket: "notes", key: "zz"))
        #expect(try s.delete(bucket: "notes", key: "zz") == false)  // without a version: a silent no-op, as before
        #expect(try s.delete(bucket: "notes", key: "a", expectedVersion: 2))
    }

    @Test func transactionDeleteAndUpdateAbortWhole() throws {
        let s = try store()
        let before = try s.all(bucket: "notes")
        #expect(catchError { _ = try s.runTransaction([
            .update(bucket: "notes", key: "a", data: ["text": "changed"], expectedVersion: 1),
            .delete(bucket: "notes", key: "b", expectedVersion: 7),
        ]) } == .versionConflict(bucket: "notes", key: "b", expected: 7, actual: 1))
        #expect(catchError { _ = try s.runTransaction([.delete(bucket: "notes", key: "gone", expectedVersion: 1)]) }?.code == "NOT_FOUND")
        #expect(try s.all(bucket: "notes") == before)
        // The version a transaction compares is the record as the transaction sees it.
        _ = try s.runTransaction([
            .update(bucket: "notes", key: "a", data: ["text": "1"], expectedVersion: 1),
            .update(bucket: "notes", key: "a", data: ["text": "2"], expectedVersion: 2),
            .delete(bucket: "notes", key: "b", expectedVersion: 1),
        ])
        #expect(try s.get(bucket: "notes", key: "a")?["text"] == "2")
        #expect(try s.get(bucket: "notes", key: "b") == nil)
        // Parsed from the wire shape, with and without the field.
        #expect(TransactionOperation(json: ["op": "delete", "bucket": "notes", "key": "a", "expectedVersion": 4])
                == .delete(bucket: "notes", key: "a", expectedVersion: 4))
        #expect(TransactionOperation(json: ["op": "update", "bucket": "notes", "key": "a", "data": [:]])
                == .update(bucket: "notes", key: "a", data: [:]))
    }
}
