import NoexJSON

/// Where bucket snapshots are kept (docs/store.md). The store calls it synchronously and does no
/// I/O itself: the owner supplies an adapter (in memory, a file per key, ...).
///
/// Values are `{state: {records: [[key, record], ...], autoincrementCounter}, metadata:
/// {persistedAt, serverId, schemaVersion: 1}}` under the key `"<storeName>:bucket:<bucket>"`.
public protocol StorageAdapter: AnyObject {
    /// The stored value for `key`, nil when there is none.
    func load(key: String) throws -> JSON?
    func save(key: String, value: JSON) throws
}

/// Keeps snapshots in a dictionary; for tests and for `--persistence memory`.
public final class MemoryStorageAdapter: StorageAdapter {
    public private(set) var values: [String: JSON] = [:]
    public private(set) var saveCount = 0

    public init() {}

    public func load(key: String) throws -> JSON? { values[key] }

    public func save(key: String, value: JSON) throws {
        values[key] = value
        saveCount += 1
    }
}

/// Persistence wiring of a store: which buckets changed since the last flush.
struct PersistenceState {
    var adapter: any StorageAdapter
    var onError: (String) -> Void
    /// Called when the first bucket becomes dirty after a flush: the owner arms its debounce timer.
    var onDirty: () -> Void
    var dirty: [String] = []
}

extension Store {
    /// Attaches a storage adapter. Buckets defined afterwards (unless `persistent: false`) are
    /// loaded from it and their changes are saved by `flushPersistence()`.
    /// `onDirty` fires when a change arrives after a quiet period (arm a `debounceMs` timer then
    /// and call `flushPersistence()` when it fires); `onError` receives save/load failures,
    /// which never fail store operations.
    public func attachStorage(
        _ adapter: any StorageAdapter, onError: @escaping (String) -> Void = { _ in }, onDirty: @escaping () -> Void = {}
    ) {
        persistence = PersistenceState(adapter: adapter, onError: onError, onDirty: onDirty)
    }

    func storageKey(_ bucket: String) -> String { "\(name):bucket:\(bucket)" }

    func isPersistent(_ b: Bucket) -> Bool { persistence != nil && b.definition.persistent != false }

    /// Loads a newly defined bucket's snapshot (records in stored order, counter, indexes rebuilt;
    /// records are not re-validated). A load error is reported and the bucket starts empty.
    func restore(_ b: Bucket) {
        guard let p = persistence, isPersistent(b) else { return }
        let value: JSON?
        do { value = try p.adapter.load(key: storageKey(b.name)) } catch {
            p.onError("Failed to load bucket \"\(b.name)\": \(error)")
            return
        }
        guard let state = value?["state"]?.objectValue else { return }
        b.loadAll {
            for entry in state["records"]?.arrayValue ?? [] {
                guard let pair = entry.arrayValue, pair.count == 2, let record = pair[1].objectValue else { continue }
                if b.table.contains(pair[0]) { continue }
                do throws(StoreError) {
                    try b.checkUnique(record, excluding: { _ in false })
                } catch {
                    p.onError("Bucket \"\(b.name)\": stored record \(JSValue.string(pair[0])) skipped: \(error.message)")
                    continue
                }
                b.rawInsert(pair[0], record, rowid: takeRowid())
            }
        }
        if let c = state["autoincrementCounter"]?.intValue { b.counter = Swift.max(b.counter, c) }
    }

    func markDirty(_ events: [StoreEvent]) {
        guard persistence != nil else { return }
        let wasClean = persistence!.dirty.isEmpty
        for e in events where !persistence!.dirty.contains(e.bucket) {
            if let b = buckets[e.bucket], isPersistent(b) { persistence!.dirty.append(e.bucket) }
        }
        if wasClean && !persistence!.dirty.isEmpty { persistence!.onDirty() }
    }

    /// Whether some persistent bucket changed since the last flush.
    public var hasUnsavedChanges: Bool { !(persistence?.dirty.isEmpty ?? true) }

    /// Saves a snapshot of every changed bucket (or of every persistent bucket with `all`);
    /// returns how many were saved. The dirty set is cleared first, so a failed save is reported
    /// and retried only after the bucket changes again (or with `all`, e.g. at shutdown).
    @discardableResult
    public func flushPersistence(all: Bool = false) -> Int {
        guard let p = persistence else { return 0 }
        let names = all ? bucketNames.filter { buckets[$0].map(isPersistent) ?? false } : p.dirty
        persistence!.dirty = []
        var saved = 0
        for name in names {
            guard let b = buckets[name] else { continue }
            var records: [JSON] = []
            records.reserveCapacity(b.count)
            for case let s? in b.table.slots { records.append([s.key, .object(s.record)]) }
            let value: JSON = [
                "state": ["records": .array(records), "autoincrementCounter": .int(b.counter)],
                "metadata": ["persistedAt": .int(nowMs()), "serverId": .string(self.name), "schemaVersion": 1],
            ]
            do {
                try p.adapter.save(key: storageKey(name), value: value)
                saved += 1
            } catch {
                p.onError("Failed to save bucket \"\(name)\": \(error)")
            }
        }
        return saved
    }
}

extension Store {
    /// The persistent buckets changed since the last flush.
    public var unsavedBuckets: [String] { persistence?.dirty ?? [] }

    /// Marks buckets changed again after their snapshot could not be kept (e.g. the disk was
    /// full), so the next flush saves them again. `onDirty` is not called: the owner that saw
    /// the failure schedules the retry.
    public func keepUnsaved(_ names: [String]) {
        guard persistence != nil else { return }
        for name in names where !persistence!.dirty.contains(name) && buckets[name] != nil { persistence!.dirty.append(name) }
    }
}
