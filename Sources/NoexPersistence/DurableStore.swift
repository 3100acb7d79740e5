import CUV
import NoexJSON
import NoexRules
import NoexStore
#if canImport(Glibc)
import Glibc
#endif

/// Makes a store durable on the `sqlite` engine (docs/persistence.md): loads it at start,
/// collects the mutations of each loop iteration, commits them as one SQLite transaction, and
/// forces them to the disk according to the fsync policy, off the loop thread.
///
/// Loop-confined. The SQLite connection is only ever used on the loop thread; the threadpool
/// job only calls `fsync` on descriptors, so no lock is needed anywhere.
public final class DurableStore {
    public let engineName = "sqlite"
    public let path: String
    public let policy: FsyncPolicy
    let engine: SQLiteEngine
    unowned let store: Store
    let rules: RuleEngine?
    let loop: UnsafeMutablePointer<uv_loop_t>

    // Loop-confined state, never accessed re-entrantly: no dynamic exclusivity checks (each
    // write and each answer read several of these: ~80 instructions per check).
    /// Mutations since the last commit (a transaction is one).
    @exclusivity(unchecked) private var pending = MutationBatch()
    /// The batch being committed; swapped with `pending`, so both keep their storage.
    @exclusivity(unchecked) private var committing = MutationBatch()
    /// Fact changes since the last commit, in order.
    @exclusivity(unchecked) private var pendingFacts: [FactChange] = []
    /// Counters as last committed, to put back when a commit fails.
    private var committedCounters: [String: Int64] = [:]
    /// Mutations recorded so far; the server compares it around a request to see if it wrote.
    @exclusivity(unchecked) public private(set) var mutationCount = 0
    public private(set) var commits = 0
    public private(set) var commitFailures = 0
    /// Wall time the last group commit took on the loop thread (ms).
    public private(set) var lastCommitMs = 0.0
    /// True while an fsync runs on the threadpool.
    public private(set) var isSyncing = false
    /// `everysec`: something was committed since the last fsync.
    private var unsynced = false
    private var syncTimer: UnsafeMutablePointer<uv_timer_t>?
    /// Cluster mode (docs/cluster.md): the replication position to write with the next commit,
    /// in the same transaction as the data it covers. Nil outside a cluster.
    public var clusterPosition: String? {
        didSet { if clusterPosition != committedClusterPosition { positionDirty = true } }
    }
    /// Cluster mode: more `meta` rows written with every commit that writes the position (the
    /// rule engine's timers, which the rules and facts tables do not hold), so a restarted node
    /// resumes with them at its stored position.
    public var clusterMeta: (() -> [(key: String, value: String)])?
    /// Cluster mode: a cheap fingerprint of what `clusterMeta` would answer. When it equals the
    /// one of the last committed rows, a commit writes the position alone (the rows are neither
    /// built nor written again); without it the rows go with every position.
    public var clusterMetaStamp: (() -> RuleStateStamp)?
    private var committedMetaStamp: RuleStateStamp?
    /// The stamp of rows in the commit being made, committed with the position.
    private var metaStampInFlight: RuleStateStamp?
    /// The position as last committed.
    public private(set) var committedClusterPosition: String?
    @exclusivity(unchecked) private var positionDirty = false
    /// The `rule_order` row as last committed by this process (StoredRuleOrder).
    private var committedRuleOrder: String?
    /// Problems found while loading (skipped records or queries), for the startup log.
    public private(set) var loadProblems: [String] = []

    /// Opens (creating if needed) the database and loads it into `store`. Errors name the file:
    /// cannot open, not a database, newer format, unreadable content.
    public init(path: String, policy: FsyncPolicy, store: Store, rules: RuleEngine? = nil,
                loop: UnsafeMutablePointer<uv_loop_t>) throws(PersistenceError)
    {
        self.path = path
        self.policy = policy
        self.store = store
        self.rules = rules
        self.loop = loop
        engine = try SQLiteEngine(path: path)
        loadProblems = try engine.load(into: store)
        committedClusterPosition = try engine.loadMeta(SQLiteEngine.clusterPositionKey)
        if let rules { loadProblems += try engine.load(into: rules) }
        rules?.onFactChange = { [unowned self] key, before, after in
            self.pendingFacts.append(FactChange(key: key, before: before, after: after))
            self.mutationCount += 1
        }
        for name in store.bucketNames { committedCounters[name] = store.autoincrementCounter(bucket: name) }
        store.onMutation = { [unowned self] changes in
            self.pending.append(changes)
            self.mutationCount += 1
        }
        store.onSingleMutation = { [unowned self] (event: consuming StoreEvent, rowid: Int64) in
            self.pending.append(event, rowid: rowid)
            self.mutationCount += 1
        }
        store.persistenceStats = { [unowned self] in self.statsJSON }
        if policy == .everysec { startSyncTimer() }
    }

    /// Stops recording and the once-a-second fsync (call on the loop thread while it runs; the
    /// database stays open until deinit).
    public func close() {
        store.onMutation = nil
        store.onSingleMutation = nil
        store.persistenceStats = nil
        rules?.onFactChange = nil
        if let t = syncTimer {
            uv_timer_stop(t)
            uv_close(UnsafeMutableRawPointer(t).assumingMemoryBound(to: uv_handle_t.self)) {
                UnsafeMutableRawPointer($0!).deallocate()
            }
            syncTimer = nil
        }
    }

    public var hasPending: Bool { !pending.isEmpty || !pendingFacts.isEmpty || positionDirty }

    // MARK: - Group commit

    /// Commits the pending mutations as one transaction. `done` gets nil when the batch is
    /// durable per the policy — at once for `everysec`/`no`, after the threadpool fsync for
    /// `always` — or the error, after the batch was undone in memory.
    public func commitPending(_ done: @escaping (PersistenceError?) -> Void) {
        if let error = commitBatch() {
            done(error)
            return
        }
        switch policy {
        case .no:
            done(nil)
        case .everysec:
            unsynced = true
            done(nil)
        case .always:
            sync { error in done(error) }
        }
    }

    /// The loop-thread part of a group commit: one SQLite transaction, no fsync.
    private func commitBatch() -> PersistenceError? {
        swap(&pending, &committing)
        let batch = committing
        defer { committing.removeAll() }
        let facts = pendingFacts
        pendingFacts = []
        let start = uv_hrtime()
        defer { lastCommitMs = Double(uv_hrtime() - start) / 1e6 }
        do throws(PersistenceError) {
            try engine.commit(batch, facts: facts, store: store, meta: positionMeta, extraMeta: clusterMetaRows())
        } catch {
            fail(batch, facts)
            discardClusterPosition()
            return error
        }
        positionCommitted()
        commits += 1
        noteCommittedCounters(batch)
        engine.checkpointIfLarge()
        return nil
    }

    /// Remembers the counters of the buckets a committed batch wrote (once per run of events
    /// of one bucket: a batch is mostly one bucket's writes).
    private func noteCommittedCounters(_ batch: MutationBatch) {
        var last: String?
        for e in batch.entries where e.bucket != last {
            last = e.bucket
            committedCounters[e.bucket] = store.autoincrementCounter(bucket: e.bucket)
        }
    }

    private var positionMeta: (key: String, value: String)? {
        guard positionDirty, let p = clusterPosition else { return nil }
        return (SQLiteEngine.clusterPositionKey, p)
    }

    /// The `clusterMeta` rows to write with the position, none when they did not change since
    /// they were last committed.
    private func clusterMetaRows() -> [(key: String, value: String)] {
        guard positionMeta != nil, let clusterMeta else { return [] }
        let stamp = clusterMetaStamp?()
        if let stamp, stamp == committedMetaStamp { return [] }
        metaStampInFlight = stamp
        return clusterMeta()
    }

    /// After a failed commit the stored position stays the last committed one; the node's
    /// applier is ahead of its (undone) data and must be restarted from it (docs/cluster.md).
    private func discardClusterPosition() {
        metaStampInFlight = nil
        guard clusterPosition != nil else { return }
        clusterPosition = committedClusterPosition
        positionDirty = false
    }

    private func positionCommitted() {
        if positionDirty { committedClusterPosition = clusterPosition }
        positionDirty = false
        if let stamp = metaStampInFlight { committedMetaStamp = stamp }
        metaStampInFlight = nil
    }

    /// Undoes a batch whose commit failed: facts, records, then counters.
    private func fail(_ batch: MutationBatch, _ facts: [FactChange]) {
        commitFailures += 1
        for change in facts.reversed() { rules?.restoreFact(key: change.key, change.before) }
        store.revert(batch.mutations)
        for e in batch.entries where store.hasBucket(e.bucket) {
            store.setAutoincrementCounter(bucket: e.bucket, committedCounters[e.bucket] ?? 0)
        }
    }

    /// Commits a schema change (bucket, query) on its own, before its answer. Pending record
    /// mutations stay pending; a failure changes nothing on disk. Under `always` the fsync runs
    /// here, on the loop (schema changes are rare).
    func commitSchema(_ change: @escaping (SQLiteDatabase) throws(PersistenceError) -> Void) throws(PersistenceError) {
        // In a cluster the stored position must never run ahead of stored data: the pending
        // record mutations (entries applied before this one) go into the same transaction.
        var batch = MutationBatch()
        let facts = clusterPosition == nil ? [] : pendingFacts
        if clusterPosition != nil {
            swap(&batch, &pending)
            pendingFacts = []
        }
        do throws(PersistenceError) {
            try engine.commit(batch, facts: facts, store: store, schema: change, meta: positionMeta, extraMeta: clusterMetaRows())
        } catch {
            if !batch.isEmpty || !facts.isEmpty { fail(batch, facts) } else { commitFailures += 1 }
            discardClusterPosition()
            throw error
        }
        positionCommitted()
        noteCommittedCounters(batch)
        if policy == .always { for fd in engine.syncTargets() { _ = fsync(fd) } }
    }

    /// Cluster bootstrap (docs/cluster.md#trimming-and-bootstrap): a snapshot was just loaded
    /// into the store of an empty database; writes the buckets and queries it defined, every
    /// record of the durable buckets, their counters and the cluster position in one
    /// transaction, so the database never holds part of it.
    public func saveBootstrap(buckets: [String], queries: [String], clusterPosition position: String) throws(PersistenceError) {
        var events = MutationBatch()
        for name in store.bucketNames where store.isDurable(bucket: name) { events.append(store.storedInserts(bucket: name)) }
        let configs = buckets.map { ($0, store.getBucketSchema($0) ?? [:]) }
        let defined = store.declarativeQueries().filter { queries.contains($0.name) }
        // The snapshot's rule-engine state (rules, facts, timers) goes into the same transaction.
        let savedRules = rules?.getRules().map { ($0.id, $0.json) } ?? []
        let order = rules?.ruleOrderState().jsonString
        let facts = rules?.getAllFacts().map { FactChange(key: $0.key, before: nil, after: $0) } ?? []
        try engine.commit(events, facts: facts, store: store, schema: { db throws(PersistenceError) in
            for (name, config) in configs { try SQLiteEngine.saveBucket(name, config)(db) }
            for q in defined { try SQLiteEngine.saveQuery(q.name, q.config)(db) }
            for (id, rule) in savedRules { try SQLiteEngine.saveRule(id, rule)(db) }
            if let order { try SQLiteEngine.saveMeta(StoredRuleOrder.metaKey, order)(db) }
        }, meta: (SQLiteEngine.clusterPositionKey, position), extraMeta: clusterMeta?() ?? [])
        committedClusterPosition = position
        committedMetaStamp = clusterMetaStamp?()
        clusterPosition = position
        positionDirty = false
        for name in store.bucketNames { committedCounters[name] = store.autoincrementCounter(bucket: name) }
        if policy == .always { for fd in engine.syncTargets() { _ = fsync(fd) } }
    }

    public func bucketDefined(_ name: String, config: JSONObject) throws(PersistenceError) {
        try commitSchema(SQLiteEngine.saveBucket(name, config))
    }

    public func bucketUpdated(_ name: String, config: JSONObject) throws(PersistenceError) {
        try commitSchema(SQLiteEngine.updateBucket(name, config))
    }

    /// Deletes the bucket's definition and data; its pending mutations are forgotten.
    public func bucketDropped(_ name: String) throws(PersistenceError) {
        pending = pending.removing(bucket: name)
        committedCounters[name] = nil
        try commitSchema(SQLiteEngine.dropBucket(name))
        engine.recordLog.forget(bucket: name)
    }

    /// Saves a rule as `Rule.json` after register/update/enable/disable; `nil` removes it. The
    /// engine's rule order and next version go into the same transaction (StoredRuleOrder).
    public func ruleChanged(_ id: String, _ rule: JSON?) throws(PersistenceError) {
        // enable/disable leave order and counter alone: the row is not rewritten for them.
        let order = rules?.ruleOrderState().jsonString
        let changed = order == committedRuleOrder ? nil : order
        try commitSchema { db throws(PersistenceError) in
            try SQLiteEngine.saveRule(id, rule)(db)
            if let changed { try SQLiteEngine.saveMeta(StoredRuleOrder.metaKey, changed)(db) }
        }
        if let changed { committedRuleOrder = changed }
    }

    public func queryDefined(_ name: String, config: JSONObject?) throws(PersistenceError) {
        try commitSchema(SQLiteEngine.saveQuery(name, config))
    }

    // MARK: - fsync off the loop

    private func sync(_ done: @escaping (PersistenceError?) -> Void) {
        isSyncing = true
        let job = FsyncJob(fds: engine.syncTargets())
        job.done = { [unowned self] in
            self.isSyncing = false
            done(job.failed.map { PersistenceError("fsync failed on \"\(self.path)\": \(String(cString: strerror($0)))") })
        }
        job.start(loop)
    }

    private func startSyncTimer() {
        let t = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
        uv_timer_init(loop, t)
        t.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        uv_unref(UnsafeMutableRawPointer(t).assumingMemoryBound(to: uv_handle_t.self))
        uv_timer_start(t, { t in
            let me = Unmanaged<DurableStore>.fromOpaque(t!.pointee.data).takeUnretainedValue()
            me.everySecond()
        }, 1000, 1000)
        syncTimer = t
    }

    private func everySecond() {
        guard unsynced, !isSyncing else { return }
        unsynced = false
        let job = FsyncJob(fds: engine.syncTargets())
        isSyncing = true
        job.done = { [unowned self] in
            self.isSyncing = false
            if job.failed != nil { self.commitFailures += 1 }
        }
        job.start(loop)
    }

    // MARK: - Stats

    /// `{enabled, engine, path, fsync, lastCommitMs, pendingWrites, commits, commitFailures}`.
    var statsJSON: JSONObject {
        [
            "enabled": true, "engine": .string(engineName), "path": .string(path), "fsync": .string(policy.rawValue),
            "lastCommitMs": .double((lastCommitMs * 1000).rounded() / 1000), "pendingWrites": .int(Int64(pending.count + pendingFacts.count)),
            "commits": .int(Int64(commits)), "commitFailures": .int(Int64(commitFailures)),
        ]
    }
}

/// One fsync of a few descriptors on libuv's threadpool. The worker touches only `fds` and
/// `failed`; libuv's queue orders those accesses against the loop thread's.
final class FsyncJob {
    let fds: [Int32]
    var failed: Int32?
    var done: (() -> Void)?
    private var req = UnsafeMutablePointer<uv_work_t>.allocate(capacity: 1)

    init(fds: [Int32]) { self.fds = fds }

    func start(_ loop: UnsafeMutablePointer<uv_loop_t>) {
        req.pointee.data = Unmanaged.passRetained(self).toOpaque()
        uv_queue_work(loop, req, { r in
            let job = Unmanaged<FsyncJob>.fromOpaque(r!.pointee.data).takeUnretainedValue()
            for fd in job.fds where fsync(fd) != 0 { job.failed = errno }
        }, { r, _ in
            let job = Unmanaged<FsyncJob>.fromOpaque(r!.pointee.data).takeRetainedValue()
            job.req.deallocate()
            job.done?()
            job.done = nil
        })
    }
}

extension DurableStore {
    /// At shutdown, after the loop stopped: commits what is still pending and fsyncs, on this
    /// thread, then stops the periodic fsync.
    public func finish() {
        if hasPending { _ = commitBatch() }
        for fd in engine.syncTargets() { _ = fsync(fd) }
        close()
    }
}
