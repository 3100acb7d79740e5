import NoexJSON

/// Identifies a reactive subscription (creation order: higher ids were created later).
public typealias SubscriptionID = Int
/// Identifies an event listener.
public typealias ListenerID = Int

/// The in-process reactive document store: buckets of JSON records with schemas, indexes,
/// filters, aggregates, transactions, TTL and reactive queries (docs/store.md).
///
/// Single-threaded and I/O-free: one instance belongs to one event loop. Time comes from
/// `nowMs`, random ids from `random`; nothing here reads the system clock.
///
/// Notifications are synchronous: each mutating call, after the mutation is complete, first
/// hands its events to the event listeners (event order, then listener registration order) and
/// then re-evaluates every affected subscription once (subscription creation order), calling a
/// subscription's listener only when the result changed. A mutation made from inside a listener
/// is queued and dispatched after the current batch, so ordering stays FIFO.
public final class Store {
    public let name: String
    /// How often the owner should call `purgeExpired` (0 = never); reported in `stats()`.
    public let ttlCheckIntervalMs: Int

    /// The clock the store reads when no decision is pinned (see `nowMs()`).
    let clock: () -> Int64
    /// A time decided elsewhere (a replicated command's origin, DecidedApplication.swift);
    /// while set, every timestamp the store writes is this one.
    var pinnedNowMs: Int64?
    /// Unchecked exclusivity (as `buckets` below): lent `inout` to one call per insert, which
    /// reaches nothing else of the store.
    @exclusivity(unchecked) var ids: IDGenerator

    /// Unchecked exclusivity: loop-confined and never accessed while an inout access to it is
    /// open; read on every request, where the dynamic check was a measurable share of a
    /// `store.get` (bench/README.md, issue 13).
    @exclusivity(unchecked) var buckets: [String: Bucket] = [:]
    public private(set) var bucketNames: [String] = []

    // reactive state (see Reactive.swift)
    var queries: [String: QueryDefinition] = [:]
    var queryOrder: [String] = []
    /// Unchecked exclusivity here and on the event-dispatch state below: loop-confined, read on
    /// every write to decide whether anyone listens, and never accessed while an inout access
    /// to it is open (dispatch reads them; listeners that mutate only append to
    /// `pendingBatches`, which is read by index between calls).
    @exclusivity(unchecked) var subscriptions: [SubscriptionID: Subscription] = [:]
    var bucketDependents: [String: Set<SubscriptionID>] = [:]
    var recordDependents: [RecordRef: Set<SubscriptionID>] = [:]
    var nextSubscriptionID = 1
    /// Query evaluations so far (tests check that irrelevant changes are skipped).
    var evaluationCount = 0
    /// Id of the latest query evaluation (see `QueryUpdate.evaluation`).
    var lastEvaluationID: UInt64 = 0
    /// Evaluations shared by equal (query, params) subscriptions during one dispatch.
    var sharedEvaluations: [EvaluationKey: SharedEvaluation] = [:]

    // event dispatch
    @exclusivity(unchecked) var listeners: [(id: ListenerID, pattern: String, handler: (StoreEvent) -> Void)] = []
    var nextListenerID = 1
    @exclusivity(unchecked) var pendingBatches: [[StoreEvent]] = []
    @exclusivity(unchecked) var dispatching = false

    /// bucket -> fields referencing it (References.swift); cleared when definitions change.
    var referrerCache: [String: [(bucket: String, field: String, onDelete: String)]] = [:]

    /// Storage wiring (Persistence.swift); nil when the store is in-memory only.
    @exclusivity(unchecked) var persistence: PersistenceState?
    /// Durable-log hook (DurableHooks.swift).
    @exclusivity(unchecked) var mutationObserver: ((StoreChanges) -> Void)?
    /// Its one-event form (DurableHooks.swift); unchecked exclusivity as above.
    @exclusivity(unchecked) var singleMutationObserver: ((consuming StoreEvent, Int64) -> Void)?
    /// The rowid the next record to go in gets (StoreChanges); above every stored row's.
    @exclusivity(unchecked) var nextRowid: Int64 = 1
    var durableStats: (() -> JSONObject)?

    public init(
        name: String = "store", ttlCheckIntervalMs: Int = 1000, nowMs: @escaping () -> Int64,
        random: any RandomNumberGenerator = SystemRandomNumberGenerator()
    ) {
        self.name = name
        self.ttlCheckIntervalMs = Swift.max(0, ttlCheckIntervalMs)
        self.clock = nowMs
        self.ids = IDGenerator(random: random)
    }

    /// The time of the mutation in progress: the pinned decision, else the store's clock.
    func nowMs() -> Int64 { pinnedNowMs ?? clock() }

    /// A rowid for a record going in (StoreChanges).
    @inline(__always)
    func takeRowid() -> Int64 {
        defer { nextRowid += 1 }
        return nextRowid
    }

    /// The bucket `bucket(_:)` found last. Requests mostly name the bucket the one before
    /// named, and comparing a name costs a fraction of hashing it for the dictionary (~300
    /// instructions per request; bench/README.md, issue 13, third round). Cleared whenever a
    /// bucket is dropped, so it never outlives its entry in `buckets`.
    @exclusivity(unchecked) var lastBucket: Bucket?

    func bucket(_ name: String) throws(StoreError) -> Bucket {
        if let b = lastBucket, b.name == name { return b }
        guard let b = buckets[name] else { throw .bucketNotDefined(name) }
        lastBucket = b
        return b
    }

    // MARK: - Bucket admin

    /// Defines a bucket from its wire definition (docs/protocol/queries.md).
    public func defineBucket(_ name: String, config: JSONObject) throws(StoreError) {
        if buckets[name] != nil { throw .bucketAlreadyExists(name) }
        try Self.checkBucketName(name)
        let def = try BucketDefinition(bucket: name, config: config)
        let b = Bucket(name: name, definition: def)
        restore(b)
        buckets[name] = b
        bucketNames.append(name)
        referrerCache = [:]
    }

    /// Bucket names are limited to `[A-Za-z0-9_-]+` (docs/store.md#decisions-where-the-original-is-quirky) so topics stay parseable.
    static func checkBucketName(_ name: String) throws(StoreError) {
        let ok = !name.isEmpty && name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-")
        }
        if !ok {
            throw .invalidDefinition("Invalid bucket name \"\(name)\": use letters, digits, \"_\" and \"-\"")
        }
    }

    /// Removes a bucket and its data, and silently ends every subscription depending on it.
    /// Returns false for an unknown bucket.
    @discardableResult
    public func dropBucket(_ name: String) -> Bool {
        guard buckets.removeValue(forKey: name) != nil else { return false }
        lastBucket = nil
        bucketNames.removeAll { $0 == name }
        referrerCache = [:]
        persistence?.dirty.removeAll { $0 == name }
        let dependent = subscriptions.values.filter { $0.deps.touches(bucket: name) }.map(\.id)
        for id in dependent { unsubscribe(id) }
        return true
    }

    public func hasBucket(_ name: String) -> Bool { buckets[name] != nil }

    /// The definition object as stored (with `updateBucket` changes merged in), or nil.
    public func getBucketSchema(_ name: String) -> JSONObject? { buckets[name]?.definition.config }

    /// `updateBucket(name, {addFields?, addIndexes?, ttl?})` (docs/store.md). Records and the
    /// autoincrement counter are kept; records are not re-validated.
    public func updateBucket(_ name: String, updates: JSONObject) throws(StoreError) {
        let b = try bucket(name)
        var config = b.definition.config
        var schema = config["schema"]?.objectValue ?? JSONObject()
        if let add = updates["addFields"]?.objectValue {
            for (field, def) in add {
                if schema.contains(field) {
                    throw .invalidDefinition("Field \"\(field)\" already exists in bucket \"\(name)\"")
                }
                schema[field] = def
            }
        }
        config["schema"] = .object(schema)
        if let add = updates["addIndexes"]?.arrayValue {
            var list = config["indexes"]?.arrayValue ?? []
            for f in add {
                let field = JSValue.string(f)
                guard schema.contains(field) else {
                    throw .invalidDefinition("Index field \"\(field)\" does not exist in schema for bucket \"\(name)\"")
                }
                if !list.contains(.string(field)) { list.append(.string(field)) }
            }
            config["indexes"] = .array(list)
        }
        if let ttl = updates["ttl"] {
            if ttl.isNull { config["ttl"] = nil } else { config["ttl"] = ttl }
        }
        let def = try BucketDefinition(bucket: name, config: config)
        try b.redefine(def)
        referrerCache = [:]
    }

    // MARK: - Writes

    /// Inserts a record (docs/protocol/queries.md#bucket-definitions); returns the stored record with its metadata.
    /// An existing key is rejected (`recordAlreadyExists`); a failed insert changes nothing.
    @discardableResult
    /// `data` is consumed: a caller that hands over its only reference (the server's request
    /// path) lets the record grow in place instead of being copied.
    public func insert(bucket name: String, record data: consuming JSONObject) throws(StoreError) -> JSONObject {
        let b = try bucket(name)
        let now = nowMs()
        var record = try b.prepareInsert(consume data, counter: b.counter + 1, now: now, ids: &ids)
        let key = record[b.keyField]!
        // Evictions reorder the table, and a reference check must not see the record itself.
        if b.definition.maxSize != nil || !b.plan.references.isEmpty {
            return try insertChecked(b, key, record, now: now)
        }
        // The key's place is claimed by the existence check itself (one hash of the key); a
        // check below that fails gives it back, so a failed insert still changes nothing.
        // Taken only once the insert succeeds: rowids of consecutive inserts stay consecutive,
        // which the sqlite engine writes cheapest (SQLiteRecordLog.tableMax).
        let rowid = nextRowid
        if !b.claim(key, record, rowid: rowid) { throw .recordAlreadyExists(bucket: name, key: key) }
        do throws(StoreError) {
            try b.checkUnique(record, excluding: { _ in false })
            try checkReferences(b, record)
        } catch {
            b.unclaim(key)
            throw error
        }
        nextRowid += 1
        if let ttl = b.definition.ttlMs, record["_expiresAt"] == nil {
            record["_expiresAt"] = JSValue.json(Double(now) + ttl)
        }
        b.counter += 1
        // Serialised once here: the answer, the storage engine's row and later reads copy it.
        record.attachText()
        b.fillClaim(key, record)
        if eventsHaveReaders { publish(one: .inserted(bucket: name, key: key, record: record), rowid: rowid) }
        return record
    }

    /// `insert` into a bucket with `maxSize` (the oldest records make room first) or with
    /// references: every check runs before the table changes.
    private func insertChecked(_ b: Bucket, _ key: JSON, _ prepared: JSONObject, now: Int64) throws(StoreError) -> JSONObject {
        let name = b.name
        var record = prepared
        if b.table.contains(key) { throw .recordAlreadyExists(bucket: name, key: key) }
        var victims: [JSON] = []
        if let maxSize = b.definition.maxSize, b.count >= maxSize {
            victims = b.oldestKeys(Swift.min(b.count, b.count - maxSize + 1))
        }
        try b.checkUnique(record, excluding: { victims.contains($0) })
        try checkReferences(b, record)
        if let ttl = b.definition.ttlMs, record["_expiresAt"] == nil {
            record["_expiresAt"] = JSValue.json(Double(now) + ttl)
        }
        var changes = StoreChanges()
        for v in victims {
            if let removed = b.rawRemove(v) {
                changes.append(.deleted(bucket: name, key: v, record: removed.record), rowid: removed.rowid)
            }
        }
        b.counter += 1
        record.attachText()
        let rowid = takeRowid()
        b.rawInsert(key, record, rowid: rowid)
        changes.append(.inserted(bucket: name, key: key, record: record), rowid: rowid)
        publish(changes)
        return record
    }

    /// Shallow-merges `changes` into the record under `key` (docs/protocol/queries.md#bucket-definitions); returns the new
    /// record. A missing record is `recordNotFound`.
    @discardableResult
    public func update(bucket name: String, key: JSON, changes: JSONObject, expectedVersion: Int64? = nil) throws(StoreError) -> JSONObject {
        let b = try bucket(name)
        guard let existing = b.get(key) else { throw .recordNotFound(bucket: name, key: key) }
        try ExpectedVersion.check(expectedVersion, existing, bucket: name, key: key)
        let merged = try b.prepareUpdate(existing: existing, changes: changes, now: nowMs())
        try b.checkUniqueForUpdate(key: key, old: existing, new: merged)
        try checkReferences(b, merged, old: existing)
        var record = merged
        record.attachText()
        let rowid = b.rawReplace(key, old: existing, new: record)
        publish(one: .updated(bucket: name, key: key, oldRecord: existing, newRecord: record), rowid: rowid)
        return record
    }

    /// Deletes a record; a missing key is a silent no-op (returns false, no event) — unless
    /// `expectedVersion` is given: then a missing record is `recordNotFound` (the caller believed
    /// it existed at that version) and a different `_version` is `versionConflict`.
    @discardableResult
    public func delete(bucket name: String, key: JSON, expectedVersion: Int64? = nil) throws(StoreError) -> Bool {
        let b = try bucket(name)
        if let expectedVersion {
            guard let existing = b.get(key) else { throw .recordNotFound(bucket: name, key: key) }
            try ExpectedVersion.check(expectedVersion, existing, bucket: name, key: key)
        }
        guard b.table.contains(key) else { return false }
        if referrers(of: name).isEmpty {
            let removed = b.rawRemove(key)!
            publish(one: .deleted(bucket: name, key: key, record: removed.record), rowid: removed.rowid)
        } else {
            publish(apply(try deletionPlan(name, key)))
        }
        return true
    }

    /// Empties a bucket (the autoincrement counter is kept). Unlike the original, this
    /// publishes a `deleted` event per record, so subscribers and listeners are told.
    public func clear(bucket name: String) throws(StoreError) {
        let b = try bucket(name)
        var changes = StoreChanges()
        changes.reserveCapacity(b.count)
        for case let s? in b.table.slots { changes.append(.deleted(bucket: name, key: s.key, record: s.record), rowid: s.rowid) }
        b.rawClear()
        publish(changes)
    }

    // MARK: - Reads

    public func get(bucket name: String, key: JSON) throws(StoreError) -> JSONObject? {
        try bucket(name).table.getWithText(key)
    }

    public func all(bucket name: String) throws(StoreError) -> [JSONObject] {
        try bucket(name).table.records
    }

    /// Records matching `filter` (docs/protocol/queries.md#filters) in insertion order. `{}` returns all records.
    public func `where`(bucket name: String, filter: JSONObject) throws(StoreError) -> [JSONObject] {
        try bucket(name).select(try Filter.checked(filter))
    }

    public func findOne(bucket name: String, filter: JSONObject) throws(StoreError) -> JSONObject? {
        try bucket(name).select(try Filter.checked(filter), limit: 1).first
    }

    public func count(bucket name: String, filter: JSONObject? = nil) throws(StoreError) -> Int {
        let b = try bucket(name)
        guard let filter else { return b.count }
        return b.countMatching(try Filter.checked(filter))
    }

    /// The first `n` records in bucket order (insertion order, or key order for `ordered_set`).
    public func first(bucket name: String, n: Int) throws(StoreError) -> [JSONObject] {
        let b = try bucket(name)
        guard n > 0 else { return [] }
        if b.definition.kind != .orderedSet {
            var out: [JSONObject] = []
            for case let s? in b.table.slots {
                if out.count >= n { break }
                out.append(s.record)
            }
            return out
        }
        return b.keyOrder().first(n).compactMap { b.get($0) }
    }

    /// The last `n` records in bucket order, oldest first.
    public func last(bucket name: String, n: Int) throws(StoreError) -> [JSONObject] {
        let b = try bucket(name)
        guard n > 0 else { return [] }
        if b.definition.kind != .orderedSet {
            var out: [JSONObject] = []
            var i = b.table.slots.count - 1
            while i >= 0 && out.count < n {
                if let s = b.table.slots[i] { out.append(s.record) }
                i -= 1
            }
            return out.reversed()
        }
        return b.keyOrder().last(n).compactMap { b.get($0) }
    }

    /// Cursor pagination (docs/store.md). `after == nil` starts at the beginning; any other value
    /// (including `.null`) is a key, and an unknown key gives an empty page.
    public func paginate(bucket name: String, after: JSON? = nil, limit: Int) throws(StoreError) -> Page {
        let b = try bucket(name)
        if b.definition.kind != .orderedSet { return Self.paginateInsertionOrder(b, after: after, limit: limit) }
        let (keys, hasMore) = b.keyOrder().page(after: after, limit: limit)
        let records = keys.compactMap { b.get($0) }
        return Page(records: records, hasMore: hasMore, nextCursor: records.isEmpty ? nil : records.last![b.keyField])
    }

    /// Insertion-order pagination walks the slots from the cursor's slot: O(limit), not O(n).
    static func paginateInsertionOrder(_ b: Bucket, after: JSON?, limit: Int) -> Page {
        let slots = b.table.slots
        var i = 0
        if let after {
            // strict equality: objects/arrays never match, and a key of another type is another key
            guard JSValue.strictEquals(after, after), let pos = b.table.position(of: after),
                JSValue.strictEquals(slots[pos]!.key, after)
            else { return Page(records: [], hasMore: false, nextCursor: nil) }
            i = pos + 1
        }
        var records: [JSONObject] = []
        let lim = Swift.max(0, limit)
        while i < slots.count && records.count < lim {
            if let s = slots[i] { records.append(s.record) }
            i += 1
        }
        while i < slots.count && slots[i] == nil { i += 1 }
        return Page(records: records, hasMore: i < slots.count, nextCursor: records.isEmpty ? nil : records.last![b.keyField])
    }

    /// Sum of the numeric values of `field` over matching records (0 when none).
    public func sum(bucket name: String, field: String, filter: JSONObject? = nil) throws(StoreError) -> JSON {
        Aggregate.sum(try matching(name, filter), field)
    }

    /// Mean of the numeric values (0 when none).
    public func avg(bucket name: String, field: String, filter: JSONObject? = nil) throws(StoreError) -> JSON {
        Aggregate.avg(try matching(name, filter), field)
    }

    /// Smallest numeric value, `.null` when there is none.
    public func min(bucket name: String, field: String, filter: JSONObject? = nil) throws(StoreError) -> JSON {
        Aggregate.min(try matching(name, filter), field)
    }

    /// Largest numeric value, `.null` when there is none.
    public func max(bucket name: String, field: String, filter: JSONObject? = nil) throws(StoreError) -> JSON {
        Aggregate.max(try matching(name, filter), field)
    }

    func matching(_ name: String, _ filter: JSONObject?) throws(StoreError) -> [JSONObject] {
        let b = try bucket(name)
        guard let filter else { return b.table.records }
        return b.select(try Filter.checked(filter))
    }

    // MARK: - TTL

    /// Deletes every record of a TTL bucket whose numeric `_expiresAt <= now` (default: the
    /// store clock), publishing a `deleted` event each. Returns how many were purged.
    @discardableResult
    public func purgeExpired(now: Int64? = nil) -> Int {
        let t = Double(now ?? nowMs())
        var changes = StoreChanges()
        for name in bucketNames {
            guard let b = buckets[name], b.definition.ttlMs != nil else { continue }
            var expired: [JSON] = []
            for case let s? in b.table.slots {
                if let e = s.record["_expiresAt"]?.numberValue, e <= t { expired.append(s.key) }
            }
            for k in expired {
                if let removed = b.rawRemove(k) { changes.append(.deleted(bucket: name, key: k, record: removed.record), rowid: removed.rowid) }
            }
        }
        publish(changes)
        return changes.count
    }

    // MARK: - Stats

    /// `{count, names}` (wire `store.buckets`).
    public func bucketsInfo() -> JSONObject {
        ["count": .int(Int64(bucketNames.count)), "names": .array(bucketNames.map(JSON.string))]
    }

    /// The statistics object of docs/store.md (wire `store.stats`).
    public func stats() -> JSONObject {
        var recordsPer = JSONObject(), indexesPer = JSONObject()
        var records = 0, indexes = 0
        for n in bucketNames {
            let b = buckets[n]!
            recordsPer[n] = .int(Int64(b.count))
            indexesPer[n] = .int(Int64(b.indexCount))
            records += b.count
            indexes += b.indexCount
        }
        return [
            "name": .string(name),
            "buckets": .object(bucketsInfo()),
            "records": ["total": .int(Int64(records)), "perBucket": .object(recordsPer)],
            "indexes": ["total": .int(Int64(indexes)), "perBucket": .object(indexesPer)],
            "queries": ["defined": .int(Int64(queries.count)), "activeSubscriptions": .int(Int64(subscriptions.count))],
            "persistence": durableStats.map { .object($0()) } ?? ["enabled": .bool(persistence != nil)],
            "ttl": ["enabled": .bool(ttlCheckIntervalMs > 0), "checkIntervalMs": .int(Int64(ttlCheckIntervalMs))],
        ]
    }
}

/// One page of `paginate`.
public struct Page: Equatable, Sendable {
    public var records: [JSONObject]
    public var hasMore: Bool
    /// Key of the last returned record; nil when the page is empty.
    public var nextCursor: JSON?

    /// `{records, hasMore, nextCursor}`; `nextCursor` is omitted when the page is empty.
    public var json: JSON {
        var o: JSONObject = ["records": .array(records.map(JSON.object)), "hasMore": .bool(hasMore)]
        if let nextCursor { o["nextCursor"] = nextCursor }
        return .object(o)
    }
}

/// Aggregations over numeric field values (docs/store.md): non-numbers are skipped.
enum Aggregate {
    static func numbers(_ records: [JSONObject], _ field: String) -> [Double] {
        records.compactMap { $0[field]?.numberValue }
    }

    static func sum(_ records: [JSONObject], _ field: String) -> JSON {
        var s = 0.0
        for r in records { if let n = r[field]?.numberValue { s += n } }
        return JSValue.json(s)
    }

    static func avg(_ records: [JSONObject], _ field: String) -> JSON {
        var s = 0.0, c = 0
        for r in records { if let n = r[field]?.numberValue { s += n; c += 1 } }
        return c == 0 ? 0 : JSValue.json(s / Double(c))
    }

    static func min(_ records: [JSONObject], _ field: String) -> JSON {
        var best: JSON? = nil
        for r in records {
            if let v = r[field], let n = v.numberValue, best == nil || n < best!.numberValue! { best = v }
        }
        return best ?? .null
    }

    static func max(_ records: [JSONObject], _ field: String) -> JSON {
        var best: JSON? = nil
        for r in records {
            if let v = r[field], let n = v.numberValue, best == nil || n > best!.numberValue! { best = v }
        }
        return best ?? .null
    }
}
