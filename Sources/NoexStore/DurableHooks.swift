import NoexJSON

/// What a durable log (NoexPersistence) needs from the store, beyond the snapshot adapter of
/// Persistence.swift: every mutation's events at the moment it happens, the autoincrement
/// counters, a raw load path for records read at start, and an exact undo of a batch whose
/// commit failed. The store itself still does no I/O.
extension Store {
    /// Called synchronously with the events of each mutation (a transaction's events arrive in
    /// one call) and their records' rowids, before listeners and subscriptions see them; nil
    /// when nobody records.
    public var onMutation: ((StoreChanges) -> Void)? {
        get { mutationObserver }
        set { mutationObserver = newValue }
    }

    /// Called instead of `onMutation` for a mutation of exactly one event (an insert, update or
    /// delete without cascades) when nothing but the durable log reads events: the store then
    /// builds no one-element array for it and skips `publish` (bench/README.md, issue 13, fifth
    /// round). Set it together with `onMutation`, which still gets every other mutation.
    /// The event is handed over (`consuming`): the log keeps it without a copy. The second
    /// argument is its record's rowid.
    public var onSingleMutation: ((consuming StoreEvent, Int64) -> Void)? {
        get { singleMutationObserver }
        set { singleMutationObserver = newValue }
    }

    /// Publishes the one event of a mutation: straight to the durable log when it is the only
    /// reader (no snapshot persistence, listener, subscription or running dispatch), else as
    /// `publish([event])`.
    @inline(__always)
    func publish(one event: consuming StoreEvent, rowid: Int64) {
        if let single = singleMutationObserver, persistence == nil, listeners.isEmpty, subscriptions.isEmpty, !dispatching {
            single(event, rowid)
            return
        }
        publish(StoreChanges(event, rowid: rowid))
    }

    /// Whether the bucket's records are to be stored (`persistent` is not `false`).
    public func isDurable(bucket name: String) -> Bool {
        guard let b = buckets[name] else { return false }
        return b.definition.persistent != false
    }

    /// The bucket's autoincrement counter (nil for an unknown bucket).
    public func autoincrementCounter(bucket name: String) -> Int64? { buckets[name]?.counter }

    /// Sets the counter back (undo of a failed commit) or forward (load at start).
    public func setAutoincrementCounter(bucket name: String, _ value: Int64) {
        buckets[name]?.counter = value
    }

    /// Loads stored records into a bucket at start: no validation, no events (indexes are
    /// rebuilt as each record goes in). A key already present or a unique conflict is skipped
    /// and reported: to `skipped` when given (the record's index, the rowid of the record that
    /// holds its key when that is why, the message), else through the returned messages.
    /// `rowids` (one per record) are the records' rowids (StoreChanges): every later record gets
    /// a larger one. Without them each gets a new one.
    public func loadRecords(bucket name: String, _ records: [(key: JSON, record: JSONObject)], rowids: [Int64]? = nil,
                            skipped: ((_ index: Int, _ holderRowid: Int64?, _ problem: String) -> Void)? = nil) -> [String]
    {
        guard let b = buckets[name] else { return ["bucket \"\(name)\" is not defined"] }
        precondition(rowids == nil || rowids!.count == records.count, "loadRecords: one rowid per record")
        if let max = rowids?.max() { nextRowid = Swift.max(nextRowid, max + 1) }
        // Sized once for all of them: the table never doubles (re-placing every entry) while
        // a large bucket loads.
        b.table.reserveCapacity(b.table.count + records.count)
        var problems: [String] = []
        let skip = skipped ?? { _, _, problem in problems.append(problem) }
        b.loadAll {
            for (i, (key, record)) in records.enumerated() {
                if let holder = b.table.rowid(of: key) {
                    skip(i, holder, "bucket \"\(name)\": duplicate stored key \(JSValue.string(key)) skipped")
                    continue
                }
                do throws(StoreError) {
                    try b.checkUnique(record, excluding: { _ in false })
                } catch {
                    skip(i, nil, "bucket \"\(name)\": stored record \(JSValue.string(key)) skipped: \(error.message)")
                    continue
                }
                b.rawInsert(key, record, rowid: rowids?[i] ?? takeRowid())
            }
        }
        return problems
    }

    /// Makes every rowid above `rowid`: those the store gives from now on (a stored row the
    /// store does not load, e.g. one of a bucket it does not hold, keeps its number), and those
    /// of the records it already holds, which get new ones: they were never written, so their
    /// rowids must not name stored rows. A durable log calls it when it attaches, before it
    /// loads the stored records with their rows' rowids.
    public func reserveRowids(through rowid: Int64) {
        nextRowid = Swift.max(nextRowid, rowid + 1)
        for name in bucketNames {
            guard let b = buckets[name], b.count > 0 else { continue }
            b.table.renumberRowids { takeRowid() }
        }
    }

    /// An `inserted` event for every record of the bucket, with its rowid, in insertion order:
    /// what writes the bucket into a durable log that does not hold it (records loaded without
    /// events, e.g. from a cluster snapshot).
    public func storedInserts(bucket name: String) -> StoreChanges {
        var out = StoreChanges()
        guard let b = buckets[name] else { return out }
        out.reserveCapacity(b.count)
        for case let s? in b.table.slots { out.append(.inserted(bucket: name, key: s.key, record: s.record), rowid: s.rowid) }
        return out
    }

    /// Gives the record of `key` the rowid: a durable log that attaches to a store already
    /// holding the key finds its stored row, which the record takes (its next write goes there).
    public func adoptRowid(bucket name: String, key: JSON, rowid: Int64) {
        guard let b = buckets[name], b.table.setRowid(key, rowid) else { return }
        nextRowid = Swift.max(nextRowid, rowid + 1)
    }

    /// Undoes mutations (newest first) whose commit failed and publishes the inverse events, so
    /// subscribers and listeners see the restored state. `onMutation` is not called for them.
    /// A record deleted by the batch comes back at the end of its bucket's insertion order,
    /// with its rowid.
    public func revert(_ mutations: [StoreChanges]) {
        let observer = mutationObserver, single = singleMutationObserver
        mutationObserver = nil
        singleMutationObserver = nil
        defer {
            mutationObserver = observer
            singleMutationObserver = single
        }
        for changes in mutations.reversed() {
            var inverse = StoreChanges()
            for (e, rowid) in zip(changes.events, changes.rowids).reversed() {
                guard let b = buckets[e.bucket] else { continue }  // dropped since
                switch e {
                case .inserted(let n, let k, let r):
                    if b.rawRemove(k) != nil { inverse.append(.deleted(bucket: n, key: k, record: r), rowid: rowid) }
                case .updated(let n, let k, let old, let new):
                    if b.table.contains(k) {
                        b.rawReplace(k, old: new, new: old)
                        inverse.append(.updated(bucket: n, key: k, oldRecord: new, newRecord: old), rowid: rowid)
                    }
                case .deleted(let n, let k, let r):
                    if !b.table.contains(k) {
                        b.rawInsert(k, r, rowid: rowid)
                        inverse.append(.inserted(bucket: n, key: k, record: r), rowid: rowid)
                    }
                }
            }
            publish(inverse)
        }
    }
}

extension Store {
    /// The bucket's key field (nil for an unknown bucket).
    public func keyField(bucket name: String) -> String? { buckets[name]?.keyField }
}

extension Store {
    /// Supplies `stats().persistence` when a durable engine is attached (`enabled` first).
    public var persistenceStats: (() -> JSONObject)? {
        get { durableStats }
        set { durableStats = newValue }
    }
}

extension Store {
    /// Puts back a bucket's previous definition (undo of an `updateBucket` whose commit failed).
    public func restoreBucketDefinition(_ name: String, _ config: JSONObject) throws(StoreError) {
        let b = try bucket(name)
        try b.redefine(try BucketDefinition(bucket: name, config: config))
        referrerCache = [:]
    }
}
