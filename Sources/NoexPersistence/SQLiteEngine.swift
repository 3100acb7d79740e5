import CSQLite
import NoexJSON
import NoexRules
import NoexStore
#if canImport(Glibc)
import Glibc
#endif

/// The `sqlite` engine: a per-record mutation log in one SQLite database (WAL mode).
///
/// Commits run on the loop thread with `synchronous=OFF`: a committed batch is in the OS's
/// page cache, so it survives a crash of the process. Forcing it to the disk is a separate
/// step (`syncTargets`), which `DurableStore` runs on libuv's threadpool according to the
/// fsync policy. Checkpoints are ours too (automatic ones are off): a checkpoint copies the
/// WAL into the main file, which must be fsynced before the WAL is reused.
final class SQLiteEngine {
    let db: SQLiteDatabase
    /// The records table's writer (set up once the schema exists).
    private(set) var recordLog: SQLiteRecordLog!
    /// A group commit's `BEGIN IMMEDIATE` and `COMMIT`, prepared once (sqlite3_exec would
    /// parse them again for every batch).
    private var beginBatch: Statement!
    private var commitBatch: Statement!
    /// WAL frames after which a commit is followed by a checkpoint. Few, because the loop copies
    /// them: 64 (256 KiB) kept the p99 latency of an insert load where it was with a checkpoint
    /// after every commit, while 2,000 (8 MiB) doubled it; the CPU per insert was the same
    /// (bench/README.md, "The WAL is checkpointed by its frames").
    var checkpointPages: Int32 = 64
    /// Frames in the WAL after the last commit, as SQLite's WAL hook tells them. The file's size
    /// says nothing: after a checkpoint SQLite writes the WAL again from its start and leaves the
    /// file as long as it was, so a size check checkpointed after every commit from then on.
    private var walFrames: Int32 = 0
    /// Checkpoints run since open.
    private(set) var checkpoints = 0
    /// Descriptors of the database and its WAL, for fsync off the loop (opened lazily).
    private var walFD: Int32 = -1
    private var dbFD: Int32 = -1
    /// Set by a checkpoint: the main file must be fsynced before the next commit.
    private(set) var mainFileDirty = false

    init(path: String) throws(PersistenceError) {
        db = try SQLiteDatabase(path: path)
        do throws(PersistenceError) {
            // One server per database: the lock is held from the first access until close, so
            // a second server fails at start instead of interleaving its writes. A server that
            // is still shutting down gets a few seconds to let go.
            db.busyTimeout(ms: 3000)
            try db.exec("PRAGMA locking_mode=EXCLUSIVE")
            // The first statement that reads the file: a corrupt file fails here, by name.
            try db.exec("PRAGMA journal_mode=WAL")
            try db.exec("PRAGMA synchronous=OFF; PRAGMA wal_autocheckpoint=0")
            // After the pragma, which installs (here: removes) the hook of automatic checkpoints.
            sqlite3_wal_hook(db.handle, { context, _, _, frames in
                Unmanaged<SQLiteEngine>.fromOpaque(context!).takeUnretainedValue().walFrames = frames
                return SQLITE_OK
            }, Unmanaged.passUnretained(self).toOpaque())
            try openSchema()
            recordLog = try SQLiteRecordLog(db)
            beginBatch = try db.statement("BEGIN IMMEDIATE")
            commitBatch = try db.statement("COMMIT")
        } catch {
            db.close()
            throw error
        }
        dbFD = open(path, O_RDONLY | O_CLOEXEC)
        walFD = open(path + "-wal", O_RDONLY | O_CLOEXEC)
    }

    /// Creates the tables of a new database, or checks an existing one's format version and
    /// upgrades an older one, all in one transaction: a crash leaves the old format whole.
    private func openSchema() throws(PersistenceError) {
        try db.transaction { () throws(PersistenceError) in
            try db.exec(SQLiteSchema.create)
            let version = try db.scalarInt("SELECT value FROM meta WHERE key = 'format_version'")
            switch version {
            case nil:
                try db.exec("INSERT INTO meta (key, value) VALUES ('format_version', \(SQLiteSchema.formatVersion))")
            case 1:
                try db.exec(SQLiteSchema.upgradeFromVersion1)
            case SQLiteSchema.formatVersion:
                break
            case let v? where v > SQLiteSchema.formatVersion:
                throw PersistenceError(
                    "database \"\(db.path)\" has format version \(v), newer than this server's \(SQLiteSchema.formatVersion): use a newer noex-server")
            case let v?:
                throw PersistenceError("database \"\(db.path)\" has format version \(v), which no noex-server wrote: is it a noex database?")
            }
        }
    }

    deinit {
        if let handle = db.handle { sqlite3_wal_hook(handle, nil, nil) }
        if walFD >= 0 { Glibc.close(walFD) }
        if dbFD >= 0 { Glibc.close(dbFD) }
    }

    // MARK: - Load

    /// Defines the stored buckets and queries the store does not have yet (the config file
    /// stays the source of its own), then loads every durable bucket's records and counter.
    func load(into store: Store) throws(PersistenceError) -> [String] {
        var problems: [String] = []
        let buckets = try db.statement("SELECT name, config FROM buckets ORDER BY rowid")
        var stored: [(String, String)] = []
        while try buckets.step() { stored.append((buckets.text(0), buckets.text(1))) }
        var definitions: [(name: String, config: JSONObject)] = []
        for (name, text) in stored where !store.hasBucket(name) { definitions.append((name, try Self.object(text, "bucket \(name)"))) }
        try StoredSchema.defineBuckets(definitions, in: store, source: "database \"\(db.path)\"")
        let counters = try db.statement("SELECT bucket, value FROM counters")
        while try counters.step() {
            let name = counters.text(0)
            if store.isDurable(bucket: name) { store.setAutoincrementCounter(bucket: name, counters.int(1)) }
        }
        try renumberRowsIfNeeded()
        let rows = try readRows(store)
        store.reserveRowids(through: rows.maxRowid)
        var later = rows.laterUnloaded
        for (name, r) in rows.loaded {
            var skipped: [String] = []
            let notDefined = store.loadRecords(bucket: name, r.records, rowids: r.rowids) { i, holder, problem in
                if let holder, holder > rows.maxRowid {
                    // A record the store held before the load (reserveRowids numbered it above
                    // every row): it takes this row, which its next write then replaces.
                    store.adoptRowid(bucket: name, key: r.records[i].key, rowid: r.rowids[i])
                    skipped.append(problem)
                    return
                }
                if holder != nil {
                    // A later row of a key (never written by a server: a database edited by hand).
                    later.append(r.rowids[i])
                    skipped.append("bucket \"\(name)\": duplicate stored key \(JSValue.string(r.records[i].key)) removed (the first row is kept)")
                    return
                }
                skipped.append(problem)
                var key: [UInt8] = []
                SQLiteRecordLog.serializeKey(r.records[i].key, into: &key)
                _ = self.recordLog.noteUnloaded(bucket: name, key: key, rowid: r.rowids[i])
            }
            problems += notDefined + skipped
        }
        try deleteRows(later)
        recordLog.tableMax = later.isEmpty ? rows.maxRowid : nil
        let queries = try db.statement("SELECT name, config FROM queries ORDER BY rowid")
        var storedQueries: [(String, String)] = []
        while try queries.step() { storedQueries.append((queries.text(0), queries.text(1))) }
        var queryDefinitions: [(name: String, config: JSONObject)] = []
        for (name, text) in storedQueries where !store.hasQuery(name) {
            queryDefinitions.append((name, try Self.object(text, "query \(name)")))
        }
        problems += StoredSchema.defineQueries(queryDefinitions, in: store)
        return problems
    }

    /// Registers the stored rules the engine does not have (the config file's win) and puts
    /// back every stored fact (the stored value wins: it is newer than the file's).
    func load(into engine: RuleEngine) throws(PersistenceError) -> [String] {
        var problems: [String] = []
        let rules = try db.statement("SELECT id, rule FROM rules ORDER BY rowid")
        var stored: [(String, String)] = []
        while try rules.step() { stored.append((rules.text(0), rules.text(1))) }
        var savedRules: [(id: String, rule: JSONObject)] = []
        for (id, text) in stored { savedRules.append((id, try Self.object(text, "rule \(id)"))) }
        problems += StoredSchema.restoreRules(savedRules, into: engine)
        let facts = try db.statement("SELECT key, fact FROM facts ORDER BY rowid")
        var savedFacts: [(key: String, fact: JSONObject)] = []
        while try facts.step() { savedFacts.append((facts.text(0), try Self.object(facts.text(1), "fact \(facts.text(0))"))) }
        problems += StoredSchema.restoreFacts(savedFacts, into: engine)
        problems += StoredRuleOrder.restore(text: try loadMeta(StoredRuleOrder.metaKey), into: engine)
        return problems
    }

    /// What `readRows` found.
    private struct StoredRows {
        /// The records of one durable bucket, to load, and their rows' rowids.
        struct Bucket {
            var records: [(key: JSON, record: JSONObject)] = []
            var rowids: [Int64] = []

            mutating func append(_ key: JSON, _ record: JSONObject, rowid: Int64) {
                records.append((key, record))
                rowids.append(rowid)
            }
        }
        var loaded: [String: Bucket] = [:]
        /// Later rows of keys of other buckets that already had a row (to delete).
        var laterUnloaded: [Int64] = []
        var maxRowid: Int64 = 0
    }

    /// Every row of `records`, in rowid order. The rows of buckets the store does not load
    /// are noted as unloaded (SQLiteRecordLog).
    private func readRows(_ store: Store) throws(PersistenceError) -> StoredRows {
        var rows = StoredRows()
        let keyFields = Dictionary(uniqueKeysWithValues: store.bucketNames.compactMap { n in
            store.keyField(bucket: n).map { (n, $0) }
        })
        let scan = try db.statement(SQLiteSchema.loadRows)
        defer { scan.reset() }
        // Rows come in rowid order, mostly in runs of one bucket: its lookups are made once per
        // run (the name compared by its bytes).
        var current: (name: String, bytes: [UInt8], keyField: String?)?
        while try scan.step() {
            let rowid = scan.int(0)
            rows.maxRowid = Swift.max(rows.maxRowid, rowid)
            let bucket = scan.bytes(1)
            let same = current.map { c in
                c.bytes.count == bucket.count && c.bytes.withUnsafeBytes { memcmp($0.baseAddress!, bucket.baseAddress!, bucket.count) == 0 }
            } ?? false
            if !same {
                let name = String(decoding: bucket, as: UTF8.self)
                current = (name, Array(bucket), store.isDurable(bucket: name) ? keyFields[name] : nil)
            }
            let name = current!.name
            guard let keyField = current!.keyField else {
                if !recordLog.noteUnloaded(bucket: name, key: Array(scan.bytes(2)), rowid: rowid) { rows.laterUnloaded.append(rowid) }
                continue
            }
            let record: JSON
            do { record = try JSON.parse(scan.bytes(3)) } catch {
                throw PersistenceError("database \"\(db.path)\": a stored record of bucket \"\(name)\" is not valid JSON: \(error)")
            }
            guard case .object(let o) = record, let key = o[keyField] else {
                throw PersistenceError("database \"\(db.path)\": a stored record of bucket \"\(name)\" has no key field \"\(keyField)\"")
            }
            rows.loaded[name, default: StoredRows.Bucket()].append(key, o, rowid: rowid)
        }
        return rows
    }

    /// Rowids above this are renumbered at start: every record the store takes gets the next
    /// rowid (StoreChanges), which must not run out. Only a database edited by hand has them.
    static let largestKeptRowid: Int64 = 1 << 62

    /// Gives the rows rowids 1, 2, 3, … in their order when the largest is above
    /// `largestKeptRowid` (one transaction; row i's new rowid is at most its old one and every
    /// smaller one is taken by then, so no two rows ever share one).
    private func renumberRowsIfNeeded() throws(PersistenceError) {
        guard let max = try db.scalarInt("SELECT max(rowid) FROM records"), max > Self.largestKeptRowid else { return }
        try db.transaction { () throws(PersistenceError) in
            let scan = try db.statement("SELECT rowid FROM records ORDER BY rowid")
            var rowids: [Int64] = []
            while try scan.step() { rowids.append(scan.int(0)) }
            scan.reset()
            let move = try db.statement("UPDATE records SET rowid = ?1 WHERE rowid = ?2")
            for (i, rowid) in rowids.enumerated() where rowid != Int64(i + 1) {
                move.reset()
                move.bind(1, Int64(i + 1))
                move.bind(2, rowid)
                try move.run()
            }
        }
    }

    /// Deletes the later rows of keys that had more than one (never written by this server:
    /// left in place, a later row would come back at the next start once the key was deleted).
    private func deleteRows(_ rowids: [Int64]) throws(PersistenceError) {
        guard !rowids.isEmpty else { return }
        try db.transaction { () throws(PersistenceError) in
            let delete = try db.statement(SQLiteSchema.deleteRecord)
            for rowid in rowids {
                delete.reset()
                delete.bind(1, rowid)
                try delete.run()
            }
        }
    }

    private static func object(_ text: String, _ what: String) throws(PersistenceError) -> JSONObject {
        guard let j = try? JSON.parse(text), case .object(let o) = j else {
            throw PersistenceError("stored \(what) is not a JSON object")
        }
        return o
    }

    // MARK: - Commit

    /// Writes a batch of mutations (and an optional schema change) as one SQLite transaction;
    /// on failure nothing of it is in the database.
    func commit(_ batch: MutationBatch, facts: [FactChange] = [], store: Store,
                schema: ((SQLiteDatabase) throws(PersistenceError) -> Void)? = nil,
                meta: (key: String, value: String)? = nil, extraMeta: [(key: String, value: String)] = []) throws(PersistenceError)
    {
        beginBatch.reset()
        try beginBatch.run()
        do throws(PersistenceError) {
            var counters: Set<String> = []
            // A batch is mostly writes to one bucket: its lookups are made once per run of
            // events of the same bucket, not per event.
            var lastBucket = "", durable = false
            try batch.entries.withUnsafeBufferPointer { (entries) throws(PersistenceError) in
                for i in entries.indices {
                    if entries[i].bucket != lastBucket {
                        lastBucket = entries[i].bucket
                        durable = store.isDurable(bucket: lastBucket)
                        if durable { counters.insert(lastBucket) }
                    }
                    if durable { try recordLog.write(entries[i]) }
                }
            }
            try recordLog.flush()
            for name in counters {
                guard let c = store.autoincrementCounter(bucket: name) else { continue }
                try recordLog.saveCounter(name, c)
            }
            for change in facts {
                if let fact = change.after {
                    let st = try db.statement(
                        "INSERT INTO facts (key, fact) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET fact = excluded.fact")
                    st.bind(1, change.key); st.bind(2, bytes: fact.json.serializedBytes)
                    try st.run()
                } else {
                    let st = try db.statement("DELETE FROM facts WHERE key = ?1")
                    st.bind(1, change.key)
                    try st.run()
                }
            }
            try schema?(db)
            if let meta { try Self.saveMeta(meta.key, meta.value)(db) }
            for m in extraMeta { try Self.saveMeta(m.key, m.value)(db) }
            commitBatch.reset()
            try commitBatch.run()
            recordLog.committed()
        } catch {
            commitBatch.reset()  // a failed COMMIT is left halted: let go of it before the rollback
            try? db.exec("ROLLBACK")
            recordLog.rolledBack()
            throw error
        }
        if walFD < 0 { walFD = open(db.path + "-wal", O_RDONLY | O_CLOEXEC) }
    }

    /// Copies the WAL into the main file once it holds more than `checkpointPages` frames. The
    /// next commit then writes the WAL from its start; under `always` that commit waits for the
    /// fsync that covers the main file (docs/persistence.md).
    func checkpointIfLarge() {
        guard walFrames > checkpointPages else { return }
        var logPages: Int32 = 0, done: Int32 = 0
        if sqlite3_wal_checkpoint_v2(db.handle, nil, SQLITE_CHECKPOINT_PASSIVE, &logPages, &done) == SQLITE_OK {
            mainFileDirty = true
            checkpoints += 1
        }
    }

    /// The descriptors an fsync must cover now: the WAL, plus the main file after a checkpoint.
    func syncTargets() -> [Int32] {
        var fds: [Int32] = []
        if walFD >= 0 { fds.append(walFD) }
        if mainFileDirty && dbFD >= 0 { fds.append(dbFD) }
        mainFileDirty = false
        return fds
    }

    // MARK: - Schema changes (committed on their own, before their answer)

    static func saveBucket(_ name: String, _ config: JSONObject) -> (SQLiteDatabase) throws(PersistenceError) -> Void {
        { (db: SQLiteDatabase) throws(PersistenceError) in
            let s = try db.statement(
                "INSERT INTO buckets (name, config) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET config = excluded.config")
            s.bind(1, name); s.bind(2, bytes: JSON.object(config).serializedBytes)
            try s.run()
        }
    }

    static func updateBucket(_ name: String, _ config: JSONObject) -> (SQLiteDatabase) throws(PersistenceError) -> Void {
        { (db: SQLiteDatabase) throws(PersistenceError) in
            let s = try db.statement("UPDATE buckets SET config = ?2 WHERE name = ?1")
            s.bind(1, name); s.bind(2, bytes: JSON.object(config).serializedBytes)
            try s.run()
        }
    }

    static func dropBucket(_ name: String) -> (SQLiteDatabase) throws(PersistenceError) -> Void {
        { (db: SQLiteDatabase) throws(PersistenceError) in
            for sql in ["DELETE FROM buckets WHERE name = ?1", "DELETE FROM records WHERE bucket = ?1",
                        "DELETE FROM counters WHERE bucket = ?1"] {
                let s = try db.statement(sql)
                s.bind(1, name)
                try s.run()
            }
        }
    }

    static func saveRule(_ id: String, _ rule: JSON?) -> (SQLiteDatabase) throws(PersistenceError) -> Void {
        { (db: SQLiteDatabase) throws(PersistenceError) in
            if let rule {
                let s = try db.statement(
                    "INSERT INTO rules (id, rule) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET rule = excluded.rule")
                s.bind(1, id); s.bind(2, bytes: rule.serializedBytes)
                try s.run()
            } else {
                let s = try db.statement("DELETE FROM rules WHERE id = ?1")
                s.bind(1, id)
                try s.run()
            }
        }
    }

    static func saveQuery(_ name: String, _ config: JSONObject?) -> (SQLiteDatabase) throws(PersistenceError) -> Void {
        { (db: SQLiteDatabase) throws(PersistenceError) in
            if let config {
                let s = try db.statement(
                    "INSERT INTO queries (name, config) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET config = excluded.config")
                s.bind(1, name); s.bind(2, bytes: JSON.object(config).serializedBytes)
                try s.run()
            } else {
                let s = try db.statement("DELETE FROM queries WHERE name = ?1")
                s.bind(1, name)
                try s.run()
            }
        }
    }
}

/// One fact change waiting for the group commit: the fact before (for an undo) and after
/// (`nil` = deleted).
struct FactChange {
    let key: String
    let before: Fact?
    let after: Fact?
}
