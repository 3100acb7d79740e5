import NoexJSON

/// The upstream bulk operations (docs/store.md, [upstream] rows): all-or-nothing, one event per
/// record, dispatched as one batch (so a subscriber re-evaluates once per call).
extension Store {
    /// Inserts every item or none. Existing keys, keys repeated in the batch and unique clashes
    /// (also between items of the batch) reject the whole batch; maxSize then evicts the oldest.
    @discardableResult
    public func insertMany(bucket name: String, records items: [JSONObject]) throws(StoreError) -> [JSONObject] {
        let b = try bucket(name)
        guard !items.isEmpty else { return [] }
        let now = nowMs()
        var prepared: [(JSON, JSONObject)] = []
        var seen = Set<JSON>()
        var batchValues: [String: Set<JSON>] = [:]
        for (i, item) in items.enumerated() {
            var record = try b.prepareInsert(item, counter: b.counter + Int64(i) + 1, now: now, ids: &ids)
            let key = record[b.keyField]!
            if b.table.contains(key) { throw .recordAlreadyExists(bucket: name, key: key) }
            if !seen.insert(key).inserted { throw .duplicateKeyInBatch(bucket: name, key: key) }
            try b.checkUnique(record, excluding: { _ in false })
            try checkReferences(b, record)
            for ix in b.indexes where ix.unique {
                guard let v = FieldIndex.indexable(record[ix.field]) else { continue }
                if !batchValues[ix.field, default: []].insert(v).inserted {
                    throw .uniqueConstraint(bucket: name, field: ix.field, value: v)
                }
            }
            if let ttl = b.definition.ttlMs, record["_expiresAt"] == nil { record["_expiresAt"] = JSValue.json(Double(now) + ttl) }
            prepared.append((key, record))
        }
        var changes = StoreChanges()
        for (key, record) in prepared {
            let rowid = takeRowid()
            b.rawInsert(key, record, rowid: rowid)
            changes.append(.inserted(bucket: name, key: key, record: record), rowid: rowid)
        }
        b.counter += Int64(items.count)
        if let maxSize = b.definition.maxSize, b.count > maxSize {
            var evicted = StoreChanges()
            for k in b.oldestKeys(b.count - maxSize) {
                if let removed = b.rawRemove(k) { evicted.append(.deleted(bucket: name, key: k, record: removed.record), rowid: removed.rowid) }
            }
            evicted.append(contentsOf: changes)
            changes = evicted
        }
        publish(changes)
        return prepared.map(\.1)
    }

    /// Applies `changes` to every record matching `filter`; all or nothing. Returns the count.
    @discardableResult
    public func updateMany(bucket name: String, filter: JSONObject, changes: JSONObject) throws(StoreError) -> Int {
        let b = try bucket(name)
        let now = nowMs()
        var planned: [(JSON, JSONObject, JSONObject)] = []
        for old in b.select(try Filter.checked(filter)) {
            let key = old[b.keyField]!
            let new = try b.prepareUpdate(existing: old, changes: changes, now: now)
            try checkReferences(b, new, old: old)
            planned.append((key, old, new))
        }
        var applied = StoreChanges()
        do throws(StoreError) {
            for (key, old, new) in planned {
                try b.checkUniqueForUpdate(key: key, old: old, new: new)
                let rowid = b.rawReplace(key, old: old, new: new)
                applied.append(.updated(bucket: name, key: key, oldRecord: old, newRecord: new), rowid: rowid)
            }
        } catch {
            for (key, old, new) in planned.prefix(applied.count).reversed() { b.rawReplace(key, old: new, new: old) }
            throw error
        }
        publish(applied)
        return planned.count
    }

    /// Deletes every record matching `filter`; returns the count.
    @discardableResult
    public func deleteMany(bucket name: String, filter: JSONObject) throws(StoreError) -> Int {
        let b = try bucket(name)
        let keys = b.select(try Filter.checked(filter)).map { $0[b.keyField]! }
        if referrers(of: name).isEmpty {
            var changes = StoreChanges()
            for key in keys {
                if let removed = b.rawRemove(key) { changes.append(.deleted(bucket: name, key: key, record: removed.record), rowid: removed.rowid) }
            }
            publish(changes)
            return changes.count
        }
        // plan every delete first so a restricted one rejects the whole call
        var deletes: [RecordRef] = [], nulls: [(RecordRef, String)] = []
        var planned = Set<RecordRef>()
        for key in keys where !planned.contains(RecordRef(bucket: name, key: key)) {
            let p = try deletionPlan(name, key)
            for d in p.deletes where planned.insert(d).inserted { deletes.append(d) }
            nulls += p.nulls
        }
        publish(apply((deletes, nulls.filter { !planned.contains($0.0) })))
        return keys.count
    }

    /// Updates the record whose key `data` carries if it exists, else inserts `data`.
    @discardableResult
    public func upsert(bucket name: String, record data: JSONObject) throws(StoreError) -> JSONObject {
        let b = try bucket(name)
        if let key = data[b.keyField], !key.isNull, b.table.contains(key) {
            return try update(bucket: name, key: key, changes: data)
        }
        return try insert(bucket: name, record: data)
    }
}
