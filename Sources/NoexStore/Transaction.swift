import NoexJSON

/// A buffered multi-bucket transaction (docs/store.md#transactions): writes are kept aside, reads see the
/// committed state plus the transaction's own writes, and everything is applied at commit only
/// if every check passes (key existence, `_version` of each updated/deleted record, unique
/// constraints). On any failure nothing is changed and no event is published.
///
/// Obtained from `Store.transaction`; valid only inside its closure.
public final class Transaction {
    unowned let store: Store

    /// Pending writes of one bucket, each list in the order the writes were made.
    struct Pending {
        var inserts: [(key: JSON, record: JSONObject)] = []
        var updates: [(key: JSON, record: JSONObject, expectedVersion: JSON?)] = []
        var deletes: [(key: JSON, expectedVersion: JSON?)] = []
        var counter: Int64

        func insertIndex(_ k: JSON) -> Int? { inserts.firstIndex { $0.key == k } }
        func updateIndex(_ k: JSON) -> Int? { updates.firstIndex { $0.key == k } }
        func deleteIndex(_ k: JSON) -> Int? { deletes.firstIndex { $0.key == k } }
    }

    var pending: [String: Pending] = [:]
    /// Buckets in first-access order (commit order).
    var order: [String] = []

    init(store: Store) { self.store = store }

    private func touch(_ name: String) throws(StoreError) -> Bucket {
        let b = try store.bucket(name)
        if pending[name] == nil {
            pending[name] = Pending(counter: b.counter)
            order.append(name)
        }
        return b
    }

    // MARK: reads (read-your-own-writes)

    public func get(bucket name: String, key: JSON) throws(StoreError) -> JSONObject? {
        let b = try touch(name)
        let p = pending[name]!
        if p.deleteIndex(key) != nil { return nil }
        if let i = p.insertIndex(key) { return p.inserts[i].record }
        if let i = p.updateIndex(key) { return p.updates[i].record }
        return b.get(key)
    }

    public func all(bucket name: String) throws(StoreError) -> [JSONObject] {
        let b = try touch(name)
        let p = pending[name]!
        if p.inserts.isEmpty && p.updates.isEmpty && p.deletes.isEmpty { return b.table.records }
        var out: [JSONObject] = []
        for case let s? in b.table.slots {
            if p.deleteIndex(s.key) != nil { continue }
            if let i = p.updateIndex(s.key) { out.append(p.updates[i].record) } else { out.append(s.record) }
        }
        out.append(contentsOf: p.inserts.map(\.record))
        return out
    }

    public func `where`(bucket name: String, filter: JSONObject) throws(StoreError) -> [JSONObject] {
        let f = try Filter.checked(filter)
        return try all(bucket: name).filter(f.matches)
    }

    public func findOne(bucket name: String, filter: JSONObject) throws(StoreError) -> JSONObject? {
        let f = try Filter.checked(filter)
        return try all(bucket: name).first(where: f.matches)
    }

    public func count(bucket name: String, filter: JSONObject? = nil) throws(StoreError) -> Int {
        guard let filter else { return try all(bucket: name).count }
        return try self.where(bucket: name, filter: filter).count
    }

    // MARK: writes (buffered)

    /// Prepares and buffers an insert; validation errors are thrown now, key and unique
    /// conflicts at commit. Returns the prepared record (generated values filled in).
    @discardableResult
    public func insert(bucket name: String, record data: JSONObject) throws(StoreError) -> JSONObject {
        let b = try touch(name)
        let counter = pending[name]!.counter + 1
        let record = try b.prepareInsert(data, counter: counter, now: store.nowMs(), ids: &store.ids)
        let key = record[b.keyField]!
        if pending[name]!.insertIndex(key) != nil {
            throw .transactionConflict(bucket: name, key: key, detail: "Record with key \"\(JSValue.string(key))\" already exists")
        }
        pending[name]!.counter = counter
        if let i = pending[name]!.deleteIndex(key) { pending[name]!.deletes.remove(at: i) }
        pending[name]!.inserts.append((key, record))
        return record
    }

    /// Buffers an update of the record as this transaction sees it; a missing record is
    /// `recordNotFound`, validation errors are thrown now.
    @discardableResult
    public func update(bucket name: String, key: JSON, changes: JSONObject, expectedVersion: Int64? = nil) throws(StoreError) -> JSONObject {
        let b = try touch(name)
        guard let current = try get(bucket: name, key: key) else { throw .recordNotFound(bucket: name, key: key) }
        try ExpectedVersion.check(expectedVersion, current, bucket: name, key: key)
        let merged = try b.prepareUpdate(existing: current, changes: changes, now: store.nowMs())
        if let i = pending[name]!.insertIndex(key) {
            pending[name]!.inserts[i].record = merged
        } else if let i = pending[name]!.updateIndex(key) {
            pending[name]!.updates[i].record = merged  // keeps the first update's expected version
        } else {
            pending[name]!.updates.append((key, merged, current["_version"]))
        }
        return merged
    }

    /// Buffers a delete; a missing record is a no-op. Deleting a record inserted in this
    /// transaction cancels the insert. After an update, the version checked at commit is the
    /// one originally read (the original compared against the updated version and always failed).
    @discardableResult
    public func delete(bucket name: String, key: JSON, expectedVersion: Int64? = nil) throws(StoreError) -> Bool {
        _ = try touch(name)
        guard let current = try get(bucket: name, key: key) else {
            if expectedVersion != nil { throw .recordNotFound(bucket: name, key: key) }
            return false
        }
        try ExpectedVersion.check(expectedVersion, current, bucket: name, key: key)
        if let i = pending[name]!.insertIndex(key) {
            pending[name]!.inserts.remove(at: i)
            return true
        }
        var expected = current["_version"]
        if let i = pending[name]!.updateIndex(key) {
            expected = pending[name]!.updates[i].expectedVersion
            pending[name]!.updates.remove(at: i)
        }
        pending[name]!.deletes.append((key, expected))
        return true
    }

    // MARK: commit

    /// Applies every bucket's pending writes in first-access order (inserts, updates, deletes),
    /// undoing everything if any check fails. Returns the events to publish.
    func commit() throws(StoreError) -> StoreChanges {
        var changes = StoreChanges()
        var undo: [() -> Void] = []
        var touched: [Bucket] = []
        defer { for b in touched { b.table.holdCompaction -= 1 } }
        do throws(StoreError) {
            for name in order {
                let p = pending[name]!
                if p.inserts.isEmpty && p.updates.isEmpty && p.deletes.isEmpty { continue }
                let b = try store.bucket(name)
                b.table.holdCompaction += 1
                touched.append(b)
                for (key, var record) in p.inserts {
                    if b.table.contains(key) {
                        throw .transactionConflict(bucket: name, key: key, detail: "Record with key \"\(JSValue.string(key))\" already exists")
                    }
                    try b.checkUnique(record, excluding: { _ in false })
                    if let ttl = b.definition.ttlMs, record["_expiresAt"] == nil,
                        let created = record["_createdAt"]?.numberValue
                    {
                        record["_expiresAt"] = JSValue.json(created + ttl)
                    }
                    let rowid = store.takeRowid()
                    b.rawInsert(key, record, rowid: rowid)
                    undo.append { _ = b.rawRemove(key) }
                    changes.append(.inserted(bucket: name, key: key, record: record), rowid: rowid)
                }
                for (key, record, expected) in p.updates {
                    guard let current = b.get(key) else {
                        throw .transactionConflict(bucket: name, key: key, detail: "Record with key \"\(JSValue.string(key))\" not found")
                    }
                    try Self.checkVersion(name, key, expected, current)
                    try b.checkUniqueForUpdate(key: key, old: current, new: record)
                    let rowid = b.rawReplace(key, old: current, new: record)
                    undo.append { b.rawReplace(key, old: record, new: current) }
                    changes.append(.updated(bucket: name, key: key, oldRecord: current, newRecord: record), rowid: rowid)
                }
                for (key, expected) in p.deletes {
                    guard let current = b.get(key) else { continue }
                    try Self.checkVersion(name, key, expected, current)
                    if let removed = b.rawRemove(key) {
                        undo.append { b.rawRestore(key, removed.record, slot: removed.slot, rowid: removed.rowid) }
                        changes.append(.deleted(bucket: name, key: key, record: removed.record), rowid: removed.rowid)
                    }
                }
                let oldCounter = b.counter
                b.counter = Swift.max(b.counter, p.counter)
                undo.append { b.counter = oldCounter }
            }
        } catch {
            for u in undo.reversed() { u() }
            throw error
        }
        // maxSize applies to transactional inserts too (the original skipped it): evict the oldest.
        for name in order {
            guard let b = store.buckets[name], let maxSize = b.definition.maxSize, b.count > maxSize else { continue }
            for k in b.oldestKeys(b.count - Swift.max(maxSize, 0)) {
                if let removed = b.rawRemove(k) { changes.append(.deleted(bucket: name, key: k, record: removed.record), rowid: removed.rowid) }
            }
        }
        return changes
    }

    private static func checkVersion(_ bucket: String, _ key: JSON, _ expected: JSON?, _ current: JSONObject) throws(StoreError) {
        let actual = current["_version"]
        if !JSValue.strictEquals(expected, actual) {
            throw .transactionConflict(
                bucket: bucket, key: key,
                detail: "Version mismatch: expected \(JSValue.string(expected)), got \(JSValue.string(actual))")
        }
    }
}

/// One operation of a wire transaction (docs/store.md#transactions, docs/protocol/store-operations.md).
public enum TransactionOperation: Equatable, Sendable {
    case get(bucket: String, key: JSON)
    case insert(bucket: String, data: JSONObject)
    case update(bucket: String, key: JSON, data: JSONObject, expectedVersion: Int64? = nil)
    case delete(bucket: String, key: JSON, expectedVersion: Int64? = nil)
    case `where`(bucket: String, filter: JSONObject)
    case findOne(bucket: String, filter: JSONObject)
    case count(bucket: String, filter: JSONObject?)

    /// Parses a wire op object that the server already validated; nil when it is malformed.
    public init?(json: JSON) {
        guard let o = json.objectValue, let op = o["op"]?.stringValue, let bucket = o["bucket"]?.stringValue else {
            return nil
        }
        let key = o["key"]?.nonNull
        switch op {
        case "get": guard let key else { return nil }; self = .get(bucket: bucket, key: key)
        case "insert": guard let d = o["data"]?.objectValue else { return nil }; self = .insert(bucket: bucket, data: d)
        case "update":
            guard let key, let d = o["data"]?.objectValue else { return nil }
            self = .update(bucket: bucket, key: key, data: d, expectedVersion: o["expectedVersion"]?.intValue)
        case "delete":
            guard let key else { return nil }
            self = .delete(bucket: bucket, key: key, expectedVersion: o["expectedVersion"]?.intValue)
        case "where": guard let f = o["filter"]?.objectValue else { return nil }; self = .where(bucket: bucket, filter: f)
        case "findOne": guard let f = o["filter"]?.objectValue else { return nil }; self = .findOne(bucket: bucket, filter: f)
        case "count": self = .count(bucket: bucket, filter: o["filter"]?.objectValue)
        default: return nil
        }
    }
}

extension Store {
    /// Runs `body` as one transaction: its writes are buffered and committed atomically after it
    /// returns; if it throws, or the commit fails, nothing changes and no event is published.
    /// Events of a committed transaction are dispatched after the commit, as one batch.
    public func transaction<T>(_ body: (Transaction) throws(StoreError) -> T) throws(StoreError) -> T {
        let tx = Transaction(store: self)
        let value = try body(tx)
        publish(try tx.commit())
        return value
    }

    /// Runs a wire transaction; returns each operation's result in order (`get`/`findOne` miss →
    /// `null`, `delete` → `{deleted: true}`, `count` → number, `where` → array).
    public func runTransaction(_ operations: [TransactionOperation]) throws(StoreError) -> [JSON] {
        try transaction { (tx: Transaction) throws(StoreError) -> [JSON] in
            var results: [JSON] = []
            results.reserveCapacity(operations.count)
            for op in operations {
                switch op {
                case .get(let b, let k): results.append(try tx.get(bucket: b, key: k).map(JSON.object) ?? .null)
                case .insert(let b, let d): results.append(.object(try tx.insert(bucket: b, record: d)))
                case .update(let b, let k, let d, let v):
                    results.append(.object(try tx.update(bucket: b, key: k, changes: d, expectedVersion: v)))
                case .delete(let b, let k, let v):
                    try tx.delete(bucket: b, key: k, expectedVersion: v)
                    results.append(["deleted": true])
                case .where(let b, let f): results.append(.array(try tx.where(bucket: b, filter: f).map(JSON.object)))
                case .findOne(let b, let f): results.append(try tx.findOne(bucket: b, filter: f).map(JSON.object) ?? .null)
                case .count(let b, let f): results.append(.int(Int64(try tx.count(bucket: b, filter: f))))
                }
            }
            return results
        }
    }
}
