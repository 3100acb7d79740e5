import NoexJSON
import Testing

@testable import NoexStore

final class FailingAdapter: StorageAdapter {
    var failKeys: Set<String> = []
    var saved: [String: JSON] = [:]
    struct Boom: Error {}
    func load(key: String) throws -> JSON? { saved[key] }
    func save(key: String, value: JSON) throws {
        if failKeys.contains(key) { throw Boom() }
        saved[key] = value
    }
}

/// The original store scenario 29 (persistence) with the I/O-free storage hooks.
@Suite struct PersistenceTests {
    @Test func s29_roundTrip() throws {
        let adapter = MemoryStorageAdapter()
        let clock = TestClock()
        var dirtySignals = 0
        let a = makeStore(clock: clock, name: "test")
        a.attachStorage(adapter, onDirty: { dirtySignals += 1 })
        #expect(a.stats()["persistence"] == ["enabled": true])
        try a.defineBucket("customers", config: Fixture.customers)
        try a.defineBucket("orders", config: Fixture.orders)
        var volatile = Fixture.orders
        volatile["persistent"] = false
        try a.defineBucket("volatile", config: volatile)
        try a.defineBucket("empty", config: Fixture.orders)
        let alice = try a.insert(bucket: "customers", record: ["name": "Alice", "tier": "vip", "email": "alice@x.cz"])
        let bob = try a.insert(bucket: "customers", record: ["name": "Bob", "email": "bob@x.cz"])
        #expect(dirtySignals == 1 && a.hasUnsavedChanges)
        let alice2 = try a.update(bucket: "customers", key: alice["id"]!, changes: ["name": "Alice B"])
        try a.delete(bucket: "customers", key: bob["id"]!)
        for _ in 0..<3 { _ = try a.insert(bucket: "orders", record: ["customerId": "c", "amount": 1, "items": []]) }
        _ = try a.insert(bucket: "volatile", record: ["customerId": "c", "amount": 1, "items": []])
        #expect(a.flushPersistence() == 2)  // customers + orders, one save each
        #expect(!a.hasUnsavedChanges)
        #expect(adapter.saveCount == 2)
        #expect(adapter.values["test:bucket:customers"]?["metadata"] == ["persistedAt": .int(clock.now), "serverId": "test", "schemaVersion": 1])
        #expect(adapter.values["test:bucket:volatile"] == nil)
        #expect(a.flushPersistence(all: true) == 3)  // shutdown: every persistent bucket, incl. empty

        // (a different seed: the same seed would hand out Alice's uuid again)
        let b = Store(name: "test", ttlCheckIntervalMs: 0, nowMs: { clock.now }, random: SeededRandom(seed: 99))
        b.attachStorage(adapter)
        try b.defineBucket("customers", config: Fixture.customers)
        try b.defineBucket("orders", config: Fixture.orders)
        try b.defineBucket("volatile", config: volatile)
        try b.defineBucket("empty", config: Fixture.orders)
        #expect(try b.all(bucket: "customers") == [alice2])
        #expect(try b.where(bucket: "customers", filter: ["tier": "vip"]).count == 1)
        #expect(catchError { _ = try b.insert(bucket: "customers", record: ["name": "X", "email": "alice@x.cz"]) }?.name == "UniqueConstraintError")
        #expect(try b.insert(bucket: "orders", record: ["customerId": "c", "amount": 1, "items": []])["id"] == 4)
        #expect(try b.count(bucket: "volatile") == 0)
        #expect(try b.count(bucket: "empty") == 0)
    }

    @Test func debounceAndErrors() throws {
        let adapter = FailingAdapter()
        adapter.failKeys = ["s:bucket:bad"]
        var errors: [String] = []
        var dirtySignals = 0
        let s = makeStore(name: "s")
        s.attachStorage(adapter, onError: { errors.append($0) }, onDirty: { dirtySignals += 1 })
        try s.defineBucket("good", config: Fixture.orders)
        try s.defineBucket("bad", config: Fixture.orders)
        for b in ["good", "bad", "good"] { _ = try s.insert(bucket: b, record: ["customerId": "c", "amount": 1, "items": []]) }
        #expect(dirtySignals == 1)  // one signal per quiet period
        #expect(s.flushPersistence() == 1)
        #expect(errors.count == 1 && errors[0].contains("bad"))
        #expect(adapter.saved["s:bucket:good"]?["state"]?["records"]?.arrayValue?.count == 2)
        #expect(s.flushPersistence() == 0)  // nothing changed since
        try s.clear(bucket: "good")  // clear is persisted too (it publishes events)
        #expect(dirtySignals == 2)
        #expect(s.flushPersistence() == 1)
        #expect(adapter.saved["s:bucket:good"]?["state"]?["records"] == [])
    }
}
