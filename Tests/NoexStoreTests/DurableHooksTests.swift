import NoexJSON
import Testing

@testable import NoexStore

/// The durable log's hooks: a mutation of one event goes to `onSingleMutation` (no array, no
/// `publish`) only while nothing else reads events; every other mutation, and every one-event
/// mutation while a listener, subscription or snapshot storage reads too, goes to `onMutation`;
/// the undo of a failed commit reaches neither.
@Suite struct DurableHooksTests {
    /// A store with the customers bucket whose hooks record what they get: "one:<type>" or
    /// "many:<types>".
    static func recordingStore() throws -> (Store, () -> [String]) {
        let store = makeStore(clock: TestClock())
        try store.defineBucket("customers", config: Fixture.customers)
        final class Log { var entries: [String] = [] }
        let log = Log()
        store.onMutation = { changes in log.entries.append("many:" + changes.events.map(\.type).joined(separator: ",")) }
        store.onSingleMutation = { (event: consuming StoreEvent, _) in log.entries.append("one:" + event.type) }
        return (store, { log.entries })
    }

    @Test func oneEventMutationsGoToTheSingleHookWhenNothingElseReads() throws {
        let (store, log) = try Self.recordingStore()
        let a = try store.insert(bucket: "customers", record: ["name": "A", "email": "a@x.cz"])
        try store.update(bucket: "customers", key: a["id"]!, changes: ["name": "A2"])
        try store.delete(bucket: "customers", key: a["id"]!)
        _ = try store.insert(bucket: "customers", record: ["name": "B", "email": "b@x.cz"])
        try store.clear(bucket: "customers")
        #expect(log() == ["one:inserted", "one:updated", "one:deleted", "one:inserted", "many:deleted"])
    }

    @Test func aListenerSendsThemThroughPublish() throws {
        let (store, log) = try Self.recordingStore()
        var heard: [String] = []
        _ = store.addEventListener { heard.append($0.type) }
        let a = try store.insert(bucket: "customers", record: ["name": "A", "email": "a@x.cz"])
        try store.update(bucket: "customers", key: a["id"]!, changes: ["name": "A2"])
        try store.delete(bucket: "customers", key: a["id"]!)
        #expect(log() == ["many:inserted", "many:updated", "many:deleted"])
        #expect(heard == ["inserted", "updated", "deleted"])
    }

    @Test func snapshotStorageSendsThemThroughPublish() throws {
        let (store, log) = try Self.recordingStore()
        store.attachStorage(MemoryStorageAdapter(), onDirty: {})
        _ = try store.insert(bucket: "customers", record: ["name": "A", "email": "a@x.cz"])
        #expect(log() == ["many:inserted"])
        #expect(store.hasUnsavedChanges)
    }

    @Test func theUndoOfAFailedCommitReachesNeitherHook() throws {
        let (store, log) = try Self.recordingStore()
        var recorded: [StoreChanges] = []
        store.onSingleMutation = { (event: consuming StoreEvent, rowid) in recorded.append(StoreChanges(event, rowid: rowid)) }
        let a = try store.insert(bucket: "customers", record: ["name": "A", "email": "a@x.cz"])
        try store.update(bucket: "customers", key: a["id"]!, changes: ["name": "A2"])
        #expect(recorded.count == 2)
        store.revert(recorded)
        #expect(recorded.count == 2 && log().isEmpty)
        #expect(try store.count(bucket: "customers") == 0)
        // The hooks are back after the undo.
        _ = try store.insert(bucket: "customers", record: ["name": "B", "email": "b@x.cz"])
        #expect(recorded.count == 3)
    }

    /// Every event comes with its record's rowid: given when the record goes in (each new one
    /// larger, also after a load), kept by updates, reported by the delete, and back with the
    /// record when the undo of a failed commit restores it.
    @Test func eventsCarryTheirRecordsRowids() throws {
        let store = makeStore(clock: TestClock())
        try store.defineBucket("customers", config: Fixture.customers)
        #expect(store.loadRecords(bucket: "customers", [("stored", ["id": "stored", "name": "S", "email": "s@x.cz"])], rowids: [40]).isEmpty)
        var seen: [(type: String, key: JSON, rowid: Int64)] = []
        var last: StoreChanges?
        store.onSingleMutation = { (event: consuming StoreEvent, rowid) in
            seen.append((event.type, event.key, rowid))
            last = StoreChanges(event, rowid: rowid)
        }
        store.onMutation = { changes in
            for (e, rowid) in zip(changes.events, changes.rowids) { seen.append((e.type, e.key, rowid)) }
        }
        let a = try store.insert(bucket: "customers", record: ["name": "A", "email": "a@x.cz"])["id"]!
        let b = try store.insert(bucket: "customers", record: ["name": "B", "email": "b@x.cz"])["id"]!
        try store.update(bucket: "customers", key: "stored", changes: ["name": "S2"])
        try store.update(bucket: "customers", key: a, changes: ["name": "A2"])
        try store.delete(bucket: "customers", key: b)
        store.revert([last!])
        try store.update(bucket: "customers", key: b, changes: ["name": "B2"])
        try store.transaction { tx throws(StoreError) in
            try tx.update(bucket: "customers", key: a, changes: ["name": "A3"])
            try tx.delete(bucket: "customers", key: b)
        }
        try store.clear(bucket: "customers")
        let expected: [(String, JSON, Int64)] = [
            ("inserted", a, 41), ("inserted", b, 42), ("updated", "stored", 40), ("updated", a, 41), ("deleted", b, 42),
            ("updated", b, 42), ("updated", a, 41), ("deleted", b, 42), ("deleted", "stored", 40), ("deleted", a, 41),
        ]
        #expect(seen.map(\.type) == expected.map(\.0))
        #expect(seen.map(\.key) == expected.map(\.1))
        #expect(seen.map(\.rowid) == expected.map(\.2))
        // A key inserted again is a new record: a new rowid.
        _ = try store.insert(bucket: "customers", record: ["id": a, "name": "A", "email": "a@x.cz"])
        #expect(seen.last?.rowid == 43)
    }
}
