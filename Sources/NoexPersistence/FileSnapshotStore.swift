import CUV
import NoexJSON
import NoexRules
import NoexStore
#if canImport(Glibc)
import Glibc
#endif

/// The `file` engine (docs/persistence.md): the original's debounced whole-bucket snapshots,
/// made crash-safe. Replies are not held: a change is written at most ~100 ms after it was
/// made, so a crash can lose the last ~100 ms plus the write time of acknowledged writes.
///
/// Layout of the data directory: one file per bucket, `bucket-NAME.GEN.json`, holding the
/// store's snapshot value (records in insertion order, counter, metadata), and `schema.json`,
/// which names the current file of every bucket and holds the wire-defined buckets, queries,
/// rules and the facts. A flush writes the changed buckets under a new generation, then
/// replaces `schema.json` (temp file, fsync, rename, directory fsync): that rename is the
/// commit point, so a crash leaves either the old or the new snapshot of *every* file, and a
/// transaction spanning two buckets is never half on disk. Files of older generations are
/// removed after the commit (and at start, with any temp file a crash left).
///
/// The store's own snapshot hooks drive it: `attachStorage` (saves), `onDirty` (arms the
/// 100 ms debounce timer), `flushPersistence` (takes the snapshots). Loop-confined.
public final class FileSnapshotStore: SchemaJournal {
    public static let formatVersion: Int64 = 1
    public static let schemaFile = "schema.json"
    /// The original's debounce.
    public static let debounceMs: UInt64 = 100
    /// After a failed flush, the next attempt waits this long (a full disk is not hammered).
    public static let retryMs: UInt64 = 1000

    public let engineName = "file"
    /// The data directory.
    public let path: String
    public let policy: FsyncPolicy
    unowned let store: Store
    let rules: RuleEngine?
    let loop: UnsafeMutablePointer<uv_loop_t>

    /// Wire-defined schema, in definition order, as written to `schema.json`.
    private var buckets: [(name: String, config: JSONObject)] = []
    private var queries: [(name: String, config: JSONObject)] = []
    private var savedRules: [(id: String, rule: JSON)] = []
    /// Facts in the order they were first set (a deleted and set again fact goes to the end,
    /// as in the sqlite engine), so `rules.getAllFacts` answers the same after a restart.
    private var facts: [String: JSON] = [:]
    private var factOrder: [String] = []
    private var factsDirty = false
    /// Bucket name -> its current file, as `schema.json` names it.
    private var files: [String: String] = [:]
    /// Every file the `schema.json` found at start names, also those of buckets this start does
    /// not define: they stay until a snapshot stops naming them, so that a restart defining the
    /// bucket again (e.g. the audit log turned back on) still finds its file.
    private var namedAtStart: Set<String> = []
    private var generation: Int64 = 0

    /// State of the flush in progress (filled by the adapter's saves).
    private var written: [String: String] = [:]
    private var attempted: [String] = []
    private var saveError: PersistenceError?
    private var excluded: String?

    public private(set) var commits = 0
    public private(set) var commitFailures = 0
    public private(set) var lastCommitMs = 0.0
    public private(set) var loadProblems: [String] = []
    private var timer: UnsafeMutablePointer<uv_timer_t>?
    private var timerArmed = false
    private var lastReportNs: UInt64 = 0
    private var unreported = 0

    /// Creates the directory if needed, loads `schema.json` and every bucket file into `store`
    /// (and `rules`), and attaches itself. Errors name the file: unreadable, not a snapshot,
    /// newer format, directory not creatable or not writable.
    public init(directory: String, policy: FsyncPolicy, store: Store, rules: RuleEngine? = nil,
                loop: UnsafeMutablePointer<uv_loop_t>) throws(PersistenceError)
    {
        path = directory
        self.policy = policy
        self.store = store
        self.rules = rules
        self.loop = loop
        try SnapshotFile.prepareDirectory(directory)
        try load()
        removeLeftovers()
        store.attachStorage(SnapshotAdapter(self), onError: { _ in }, onDirty: { [unowned self] in self.arm(Self.debounceMs) })
        rules?.onFactChange = { [unowned self] key, _, after in
            self.setFact(key, after?.json)
            self.arm(Self.debounceMs)
            self.factsDirty = true
        }
        store.persistenceStats = { [unowned self] in self.statsJSON }
        let t = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
        uv_timer_init(loop, t)
        t.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        uv_unref(UnsafeMutableRawPointer(t).assumingMemoryBound(to: uv_handle_t.self))
        timer = t
    }

    // MARK: - Load

    private func file(_ name: String) -> String { path + "/" + name }

    private func load() throws(PersistenceError) {
        let schemaPath = file(Self.schemaFile)
        guard let top = try SnapshotFile.read(schemaPath) else { return }
        let bad = { (what: String) in PersistenceError("\"\(schemaPath)\" is not a valid snapshot file (\(what)): restore it from a backup or remove it") }
        guard let o = top.objectValue, let version = o["formatVersion"]?.intValue else { throw bad("no formatVersion") }
        try Self.checkVersion(version, schemaPath)
        generation = o["generation"]?.intValue ?? 0
        func pairs(_ key: String, _ nameKey: String) throws(PersistenceError) -> [(String, JSONObject)] {
            var out: [(String, JSONObject)] = []
            for entry in o[key]?.arrayValue ?? [] {
                guard let e = entry.objectValue, let n = e[nameKey]?.stringValue, let c = e["config"]?.objectValue else { throw bad("an entry of \"\(key)\"") }
                out.append((n, c))
            }
            return out
        }
        buckets = try pairs("buckets", "name").map { (name: $0.0, config: $0.1) }
        queries = try pairs("queries", "name").map { (name: $0.0, config: $0.1) }
        for (name, value) in o["files"]?.objectValue ?? [:] {
            guard let f = value.stringValue, f.hasPrefix("bucket-\(name)."), f.hasSuffix(".json"), !f.contains("/") else {
                throw bad("the file of bucket \"\(name)\"")
            }
            files[name] = f
        }
        try StoredSchema.defineBuckets(buckets, in: store, source: "\"\(schemaPath)\"")
        for name in store.bucketNames {
            guard store.isDurable(bucket: name), let f = files[name] else { continue }
            try loadBucket(name, file(f))
        }
        // Files of buckets that are no longer defined (or not persistent) are dropped from the
        // next snapshot.
        namedAtStart = Set(files.values)
        files = files.filter { store.isDurable(bucket: $0.key) }
        loadProblems += StoredSchema.defineQueries(queries, in: store)
        var storedRules: [(id: String, rule: JSONObject)] = []
        for r in o["rules"]?.arrayValue ?? [] {
            guard let ro = r.objectValue, let id = ro["id"]?.stringValue else { throw bad("an entry of \"rules\"") }
            storedRules.append((id, ro))
            savedRules.append((id, r))
        }
        var storedFacts: [(key: String, fact: JSONObject)] = []
        for f in o["facts"]?.arrayValue ?? [] {
            guard let fo = f.objectValue, let key = fo["key"]?.stringValue else { throw bad("an entry of \"facts\"") }
            storedFacts.append((key, fo))
            setFact(key, f)
        }
        if let rules {
            loadProblems += StoredSchema.restoreRules(storedRules, into: rules)
            loadProblems += StoredSchema.restoreFacts(storedFacts, into: rules)
            loadProblems += StoredRuleOrder.restore(o[StoredRuleOrder.schemaKey], into: rules)
        }
    }

    private static func checkVersion(_ version: Int64, _ file: String) throws(PersistenceError) {
        if version > formatVersion {
            throw PersistenceError("\"\(file)\" has format version \(version), newer than this server's \(formatVersion): use a newer noex-server")
        }
    }

    private func loadBucket(_ name: String, _ filePath: String) throws(PersistenceError) {
        guard let value = try SnapshotFile.read(filePath) else {
            throw PersistenceError("\"\(filePath)\" is missing (named by \"\(file(Self.schemaFile))\"): restore the data directory from a backup")
        }
        let bad = PersistenceError("\"\(filePath)\" is not a valid snapshot of bucket \"\(name)\": restore it from a backup or remove the data directory")
        guard let state = value["state"]?.objectValue, let list = state["records"]?.arrayValue else { throw bad }
        try Self.checkVersion(value["metadata"]?["schemaVersion"]?.intValue ?? 1, filePath)
        var records: [(key: JSON, record: JSONObject)] = []
        records.reserveCapacity(list.count)
        for entry in list {
            guard let pair = entry.arrayValue, pair.count == 2, let record = pair[1].objectValue else { throw bad }
            records.append((pair[0], record))
        }
        loadProblems += store.loadRecords(bucket: name, records)
        if let c = state["autoincrementCounter"]?.intValue { store.setAutoincrementCounter(bucket: name, c) }
    }

    /// Removes temp files and bucket files `schema.json` does not name (an interrupted flush).
    private func removeLeftovers() {
        let current = namedAtStart
        for name in SnapshotFile.entries(path) {
            let stale = (name.hasPrefix(".") && name.hasSuffix(".tmp")) || (name.hasPrefix("bucket-") && name.hasSuffix(".json") && !current.contains(name))
            if stale { unlink(file(name)) }
        }
    }

    static func bucketFile(_ name: String, _ generation: Int64) -> String { "bucket-\(name).\(generation).json" }

    // MARK: - Flush

    /// Called by the adapter for each bucket `flushPersistence` saves.
    fileprivate func save(key: String, value: JSON) throws {
        guard let colon = key.lastIndex(of: ":") else { return }
        let name = String(key[key.index(after: colon)...])
        attempted.append(name)
        guard name != excluded else { return }
        if saveError != nil { throw saveError! }
        let f = Self.bucketFile(name, generation)
        do throws(PersistenceError) {
            try SnapshotFile.write(value.serializedBytes, dir: path, name: f, fsync: policy != .no)
        } catch {
            saveError = error
            throw error
        }
        written[name] = f
    }

    /// Writes the changed buckets and then `schema.json`. On failure nothing on disk changed
    /// that a load would read, and every bucket of this flush stays dirty for the next one
    /// (a snapshot is idempotent: retrying writes the then-current state).
    private func flush(excluding: String? = nil) throws(PersistenceError) {
        let start = uv_hrtime()
        defer { lastCommitMs = Double(uv_hrtime() - start) / 1e6 }
        generation += 1
        written = [:]
        attempted = []
        saveError = nil
        excluded = excluding
        store.flushPersistence()
        excluded = nil
        var next = files
        for (name, f) in written { next[name] = f }
        if let excluding { next[excluding] = nil }
        var error = saveError
        var renamed = false
        if error == nil {
            do throws(PersistenceError) {
                if policy != .no && !written.isEmpty { try SnapshotFile.syncDirectory(path) }
                try SnapshotFile.write(schemaBytes(next), dir: path, name: Self.schemaFile, fsync: policy != .no)
                renamed = true
                if policy != .no { try SnapshotFile.syncDirectory(path) }
            } catch let e {
                error = e
            }
        }
        if let error {
            // Once the new schema.json is in place, both it and the old one may be what a
            // restart finds: keep every file either names (the next flush or start tidies up).
            if renamed { files = next } else { for f in written.values { unlink(file(f)) } }
            store.keepUnsaved(attempted)
            commitFailures += 1
            report(error)
            throw error
        }
        for (name, f) in files where next[name] != f { unlink(file(f)) }
        files = next
        factsDirty = false
        commits += 1
    }

    private func schemaBytes(_ files: [String: String]) -> [UInt8] {
        var fileMap = JSONObject()
        for name in files.keys.sorted() { fileMap[name] = .string(files[name]!) }
        var o: JSONObject = [
            "formatVersion": .int(Self.formatVersion), "generation": .int(generation),
            "buckets": .array(buckets.map { ["name": .string($0.name), "config": .object($0.config)] }),
            "files": .object(fileMap),
            "queries": .array(queries.map { ["name": .string($0.name), "config": .object($0.config)] }),
            "rules": .array(savedRules.map(\.rule)),
            "facts": .array(factOrder.map { facts[$0]! }),
        ]
        // The engine's current order and counter (StoredRuleOrder); a rule change whose flush
        // failed was undone in memory before any later flush runs.
        if let rules { o[StoredRuleOrder.schemaKey] = rules.ruleOrderState() }
        return JSON.object(o).serializedBytes
    }

    private func setFact(_ key: String, _ fact: JSON?) {
        if let fact {
            if facts.updateValue(fact, forKey: key) == nil { factOrder.append(key) }
        } else if facts.removeValue(forKey: key) != nil {
            factOrder.removeAll { $0 == key }
        }
    }

    private var hasPending: Bool { store.hasUnsavedChanges || factsDirty }

    /// The debounce timer fired (or a retry is due).
    private func timerFired() {
        timerArmed = false
        guard hasPending else { return }
        do throws(PersistenceError) { try flush() } catch { arm(Self.retryMs) }
    }

    private func arm(_ ms: UInt64) {
        guard let t = timer, !timerArmed else { return }
        timerArmed = true
        uv_timer_start(t, { t in
            Unmanaged<FileSnapshotStore>.fromOpaque(t!.pointee.data).takeUnretainedValue().timerFired()
        }, ms, 0)
    }

    /// A failed flush on stderr, at most once every 10 s (with how many were not shown).
    private func report(_ error: PersistenceError) {
        let now = uv_hrtime()
        guard lastReportNs == 0 || now - lastReportNs >= 10_000_000_000 else {
            unreported += 1
            return
        }
        let more = unreported > 0 ? " (\(unreported) more failures since the last report)" : ""
        lastReportNs = now
        unreported = 0
        FileHandleStandardError.write("[noex-server] Error: snapshot not written, will retry: \(error.message)\(more)\n")
    }

    // MARK: - Schema changes: a snapshot of everything, before the answer

    /// Applies `change` to the wire schema, writes a full flush with it, and keeps it only if
    /// that succeeded.
    private func commitSchema(excluding: String? = nil, _ change: (FileSnapshotStore) -> Void) throws(PersistenceError) {
        let before = (buckets, queries, savedRules)
        change(self)
        do throws(PersistenceError) { try flush(excluding: excluding) } catch {
            (buckets, queries, savedRules) = before
            arm(Self.retryMs)
            throw error
        }
    }

    public func bucketDefined(_ name: String, config: JSONObject) throws(PersistenceError) {
        try commitSchema { $0.buckets.removeAll { $0.name == name }; $0.buckets.append((name, config)) }
    }

    public func bucketUpdated(_ name: String, config: JSONObject) throws(PersistenceError) {
        try commitSchema { s in
            if let i = s.buckets.firstIndex(where: { $0.name == name }) { s.buckets[i].config = config }
        }
    }

    public func bucketDropped(_ name: String) throws(PersistenceError) {
        try commitSchema(excluding: name) { $0.buckets.removeAll { $0.name == name } }
    }

    public func ruleChanged(_ id: String, _ rule: JSON?) throws(PersistenceError) {
        try commitSchema { s in
            if let rule {
                if let i = s.savedRules.firstIndex(where: { $0.id == id }) { s.savedRules[i].rule = rule } else { s.savedRules.append((id, rule)) }
            } else {
                s.savedRules.removeAll { $0.id == id }
            }
        }
    }

    public func queryDefined(_ name: String, config: JSONObject?) throws(PersistenceError) {
        try commitSchema { s in
            if let config {
                if let i = s.queries.firstIndex(where: { $0.name == name }) { s.queries[i].config = config } else { s.queries.append((name, config)) }
            } else {
                s.queries.removeAll { $0.name == name }
            }
        }
    }

    // MARK: - Stopping

    /// On the loop thread while it still runs (graceful stop): writes what is pending and
    /// closes the timer.
    public func close() {
        if hasPending { try? flush() }
        if let t = timer {
            uv_timer_stop(t)
            uv_close(UnsafeMutableRawPointer(t).assumingMemoryBound(to: uv_handle_t.self)) {
                UnsafeMutableRawPointer($0!).deallocate()
            }
            timer = nil
        }
    }

    /// After the loop stopped: writes what the last iteration changed.
    public func finish() {
        if hasPending { try? flush() }
    }

    // MARK: - Stats

    /// Same keys as the sqlite engine's; `pendingWrites` = buckets (and the facts) changed
    /// since the last snapshot.
    var statsJSON: JSONObject {
        [
            "enabled": true, "engine": .string(engineName), "path": .string(path), "fsync": .string(policy.rawValue),
            "lastCommitMs": .double((lastCommitMs * 1000).rounded() / 1000),
            "pendingWrites": .int(Int64(store.unsavedBuckets.count + (factsDirty ? 1 : 0))),
            "commits": .int(Int64(commits)), "commitFailures": .int(Int64(commitFailures)),
        ]
    }
}

/// The store's `StorageAdapter` for the file engine. Loading is done by the engine at start
/// (so a bad file stops the start instead of leaving a bucket empty); a bucket defined later
/// starts empty.
private final class SnapshotAdapter: StorageAdapter {
    unowned let owner: FileSnapshotStore
    init(_ owner: FileSnapshotStore) { self.owner = owner }
    func load(key: String) throws -> JSON? { nil }
    func save(key: String, value: JSON) throws { try owner.save(key: key, value: value) }
}

private enum FileHandleStandardError {
    static func write(_ s: String) {
        var bytes = Array(s.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
