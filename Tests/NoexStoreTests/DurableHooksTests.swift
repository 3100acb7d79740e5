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
        store.onMutation = { events in log.entries.append("many:" + events.map(\.type).joined(separator: ",")) }
        store.onSingleMutation = { (event: consuming StoreEvent) in log.entries.append("one:" + event.type) }
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
        var recorded: [StoreEvent] = []
        store.onSingleMutation = { (event: consuming StoreEvent) in recorded.append(event) }
        let a = try store.insert(bucket: "customers", record: ["name": "A", "email": "a@x.cz"])
        try store.update(bucket: "customers", key: a["id"]!, changes: ["name": "A2"])
        #expect(recorded.count == 2)
        store.revert(recorded.map { [$0] })
        #expect(recorded.count == 2 && log().isEmpty)
        #expect(try store.count(bucket: "customers") == 0)
        // The hooks are back after the undo.
        _ = try store.insert(bucket: "customers", record: ["name": "B", "email": "b@x.cz"])
        #expect(recorded.count == 3)
    }
}
