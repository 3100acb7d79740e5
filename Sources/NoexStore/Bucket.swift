import NoexJSON

/// The state of one bucket: records, indexes, autoincrement counter and schema.
///
/// Only the `Store` mutates it; every mutating entry point here assumes the caller already
/// checked everything that can fail, so a failed operation never leaves partial changes.
final class Bucket {
    let name: String
    // Unchecked exclusivity on what every write reads (as `table` below): replaced only by
    // `redefine`, never while a write is using them.
    @exclusivity(unchecked) private(set) var definition: BucketDefinition
    @exclusivity(unchecked) private(set) var validator: SchemaValidator
    /// What inserts need from `definition`, without copying its field definitions.
    @exclusivity(unchecked) private(set) var plan: WritePlan
    /// Unchecked exclusivity: touched on every read and write, never while another access to
    /// it is open (RecordTable's methods do not reach back into the bucket).
    @exclusivity(unchecked) var table = RecordTable()
    @exclusivity(unchecked) private(set) var indexes: [FieldIndex] = []
    private var indexSlot: [String: Int] = [:]
    @exclusivity(unchecked) var counter: Int64 = 0
    /// An `ordered_set` bucket's keys in key order, kept up to date by every change from the
    /// bucket's start (nil for other buckets). Made by the first `first`, `last` or `paginate`
    /// instead, it sorted every key then, on the loop: ~1.7 µs per key, seconds for a million
    /// (bench/README.md, "An ordered_set bucket's order is kept from its start").
    private var orderCache: OrderedKeys?

    init(name: String, definition: BucketDefinition) {
        self.name = name
        self.definition = definition
        validator = SchemaValidator(definition: definition)
        plan = WritePlan(definition)
        indexes = definition.indexedFields.map { FieldIndex(field: $0.name, unique: $0.unique) }
        for (i, ix) in indexes.enumerated() { indexSlot[ix.field] = i }
        if definition.kind == .orderedSet { orderCache = OrderedKeys([]) }
    }

    var keyField: String { definition.key }

    /// Inserts many records at once (a load at start): the key order is sorted once after
    /// them, not kept key by key.
    func loadAll(_ insert: () -> Void) {
        let ordered = orderCache != nil
        orderCache = nil
        insert()
        if ordered { orderCache = OrderedKeys(table.keys) }
    }

    // MARK: preparation (no mutation)

    /// Insert preparation (docs/protocol/queries.md#bucket-definitions): generated values, defaults, metadata,
    /// validation. `counter` is the autoincrement value to hand out.
    func prepareInsert(_ data: consuming JSONObject, counter: Int64, now: Int64, ids: inout IDGenerator) throws(StoreError)
        -> JSONObject
    {
        var record = consume data
        // Room for the generated fields and the three metadata fields: one allocation instead
        // of growing the parsed object's right-sized storage member by member.
        record.reserveCapacity(record.count + plan.generated.count + plan.defaults.count + 3)
        for (field, kind) in plan.generated where record[field] == nil {
            switch kind {
            case .uuid: record[field] = .string(ids.uuid())
            case .cuid: record[field] = .string(ids.cuid())
            case .timestamp: record[field] = .int(now)
            case .autoincrement: record[field] = .int(counter)
            }
        }
        for (field, value) in plan.defaults where record[field] == nil { record[field] = value }
        record["_version"] = 1
        record["_createdAt"] = .int(now)
        record["_updatedAt"] = .int(now)
        var issues = validator.validate(record)
        let key = record[keyField]
        if key == nil || key!.isNull, !issues.contains(where: { $0.field == keyField }) {
            // The original would store the record under `undefined`; we refuse a keyless record.
            issues.append(ValidationIssue(field: keyField, message: "Field is required", code: "required"))
        }
        if !issues.isEmpty { throw .validation(bucket: name, issues: issues) }
        return record
    }

    /// Update preparation (docs/protocol/queries.md#bucket-definitions): sanitize, shallow-merge, bump, validate.
    func prepareUpdate(existing: JSONObject, changes: JSONObject, now: Int64) throws(StoreError) -> JSONObject {
        var merged = existing
        for (field, value) in changes {
            if field == "_version" || field == "_createdAt" || field == "_updatedAt" || field == keyField { continue }
            if definition.field(field)?.generated != nil { continue }
            merged[field] = value
        }
        let version = existing["_version"]?.numberValue ?? 0
        merged["_version"] = JSValue.json(version + 1)
        merged["_updatedAt"] = .int(now)
        let issues = validator.validate(merged)
        if !issues.isEmpty { throw .validation(bucket: name, issues: issues) }
        return merged
    }

    /// Throws the first unique violation `record` would cause, ignoring holders in `excluding`.
    func checkUnique(_ record: JSONObject, excluding: (JSON) -> Bool) throws(StoreError) {
        for ix in indexes where ix.unique {
            if ix.conflict(for: record, excluding: excluding) != nil {
                throw .uniqueConstraint(bucket: name, field: ix.field, value: record[ix.field]!)
            }
        }
    }

    /// Unique check for an update: only fields whose value changed are checked.
    func checkUniqueForUpdate(key: JSON, old: JSONObject, new: JSONObject) throws(StoreError) {
        for ix in indexes where ix.unique {
            if JSValue.strictEquals(old[ix.field], new[ix.field]) { continue }
            if ix.conflict(for: new, excluding: { $0 == key }) != nil {
                throw .uniqueConstraint(bucket: name, field: ix.field, value: new[ix.field]!)
            }
        }
    }

    // MARK: raw mutation (callers checked everything)

    func rawInsert(_ key: JSON, _ record: JSONObject, rowid: Int64) {
        for i in indexes.indices { indexes[i].add(key, record) }
        table.append(key, record, rowid: rowid)
        orderCache?.insert(key)
    }

    /// Takes the key's place in the table for a record being inserted (false: the key exists),
    /// before the remaining checks; `unclaim` gives it back, `fillClaim` completes the insert.
    func claim(_ key: JSON, _ record: JSONObject, rowid: Int64) -> Bool {
        guard table.appendIfAbsent(key, record, rowid: rowid) else { return false }
        orderCache?.insert(key)
        return true
    }

    func unclaim(_ key: JSON) {
        table.remove(key)
        orderCache?.remove(key)
    }

    /// Stores the final record in the place `claim` took (nothing was appended since) and
    /// indexes it.
    func fillClaim(_ key: JSON, _ record: JSONObject) {
        for i in indexes.indices { indexes[i].add(key, record) }
        table.replaceLast(key, record)
    }

    /// Returns the record's rowid (kept by the update).
    @discardableResult
    func rawReplace(_ key: JSON, old: JSONObject, new: JSONObject) -> Int64 {
        for i in indexes.indices where !JSValue.strictEquals(old[indexes[i].field], new[indexes[i].field]) {
            indexes[i].remove(key, old)
            indexes[i].add(key, new)
        }
        return table.replace(key, new)
    }

    @discardableResult
    func rawRemove(_ key: JSON) -> (slot: Int, record: JSONObject, rowid: Int64)? {
        guard let removed = table.remove(key) else { return nil }
        for i in indexes.indices { indexes[i].remove(key, removed.record) }
        orderCache?.remove(key)
        return removed
    }

    /// Puts back a record removed by `rawRemove` (transaction rollback).
    func rawRestore(_ key: JSON, _ record: JSONObject, slot: Int, rowid: Int64) {
        for i in indexes.indices { indexes[i].add(key, record) }
        table.restore(key, record, slot: slot, rowid: rowid)
        orderCache?.insert(key)
    }

    func rawClear() {
        table.removeAll()
        if orderCache != nil { orderCache = OrderedKeys([]) }
        for i in indexes.indices { indexes[i].removeAll() }
    }

    // MARK: reads

    func get(_ key: JSON) -> JSONObject? { table.get(key) }

    var count: Int { table.count }

    /// Records matching `filter`, in insertion order. Uses the first indexable plain entry.
    func select(_ filter: Filter, limit: Int = .max) -> [JSONObject] {
        if filter.isEmpty {
            let all = table.records
            return limit >= all.count ? all : Array(all.prefix(limit))
        }
        if let (field, value) = filter.indexCandidate(indexed: { self.indexSlot[$0] != nil }) {
            let keys = indexes[indexSlot[field]!].lookup(value)
            var hits: [(Int, JSONObject)] = []
            hits.reserveCapacity(keys.count)
            var ordered = true
            for k in keys {
                guard let e = table.entry(k), filter.matches(e.record) else { continue }
                if let last = hits.last, last.0 > e.position { ordered = false }
                hits.append((e.position, e.record))
            }
            // keys come in the order they joined the value: usually table order already
            if !ordered { hits.sort { $0.0 < $1.0 } }
            return hits.prefix(limit).map(\.1)
        }
        var out: [JSONObject] = []
        for case let s? in table.slots where filter.matches(s.record) {
            out.append(s.record)
            if out.count >= limit { break }
        }
        return out
    }

    func countMatching(_ filter: Filter) -> Int {
        if filter.isEmpty { return table.count }
        if let (field, value) = filter.indexCandidate(indexed: { self.indexSlot[$0] != nil }) {
            let index = indexes[indexSlot[field]!]
            if filter.clauses.count == 1 { return index.count(value) }  // the index answers it alone
            var n = 0
            for k in index.lookup(value) {
                if let r = table.get(k), filter.matches(r) { n += 1 }
            }
            return n
        }
        var n = 0
        for case let s? in table.slots where filter.matches(s.record) { n += 1 }
        return n
    }

    /// An `ordered_set` bucket's keys in key order (docs/store.md), for first/last/paginate:
    /// kept from the bucket's start, so the sort here is never taken for one.
    func keyOrder() -> OrderedKeys { orderCache ?? OrderedKeys(table.keys) }

    /// Whether the key order is kept (tests: an `ordered_set` bucket keeps it from its start).
    var keepsKeyOrder: Bool { orderCache != nil }

    // MARK: schema changes

    /// Rebuilds this bucket under a new definition, keeping records and counter.
    /// Throws (leaving the bucket unchanged) if existing data violates a new unique index.
    func redefine(_ newDefinition: BucketDefinition) throws(StoreError) {
        var newIndexes = newDefinition.indexedFields.map { FieldIndex(field: $0.name, unique: $0.unique) }
        for case let s? in table.slots {
            for i in newIndexes.indices {
                if newIndexes[i].conflict(for: s.record, excluding: { _ in false }) != nil {
                    throw .uniqueConstraint(bucket: name, field: newIndexes[i].field, value: s.record[newIndexes[i].field]!)
                }
                newIndexes[i].add(s.key, s.record)
            }
        }
        definition = newDefinition
        orderCache = newDefinition.kind == .orderedSet ? OrderedKeys(table.keys) : nil
        validator = SchemaValidator(definition: newDefinition)
        plan = WritePlan(newDefinition)
        indexes = newIndexes
        indexSlot = [:]
        for (i, ix) in indexes.enumerated() { indexSlot[ix.field] = i }
    }

    /// Keys of the `n` oldest records by `_createdAt` (stable: insertion order on ties).
    func oldestKeys(_ n: Int) -> [JSON] {
        guard n > 0 else { return [] }
        var entries: [(Double, Int, JSON)] = []
        entries.reserveCapacity(table.count)
        var i = 0
        for case let s? in table.slots {
            entries.append((s.record["_createdAt"]?.numberValue ?? 0, i, s.key))
            i += 1
        }
        if n == 1 {
            guard let m = entries.min(by: { ($0.0, $0.1) < ($1.0, $1.1) }) else { return [] }
            return [m.2]
        }
        entries.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        return entries.prefix(n).map(\.2)
    }

    var indexCount: Int { indexes.count }
}
