import CSQLite
import NoexJSON
import NoexStore
#if canImport(Glibc)
import Glibc
#endif

/// Writes the store's record mutations into the `records` table on the group-commit path.
///
/// Cheap per write because the statements are prepared once and held (no lookup by SQL text),
/// the record's text is the one the store attached when it wrote it (or goes, like the key,
/// through a reused buffer), bound without a copy, a counter that did not change is not written
/// again, and no index is written or looked up: a record's row has the record's rowid, which the
/// store gives it when it goes in and hands over with each event (`StoreChanges`). An insert
/// appends its row (up to `maxGroup` inserts of one bucket in one statement, which spares
/// SQLite's per-statement work), an update or delete names its row by the rowid
/// (bench/README.md, issue 13, fourth round and "The store gives each record its rowid").
///
/// Tried and dropped: a Swift dictionary of JSON keys → rowid (cost as much CPU per insert as
/// the B-tree work it saved), a `WITHOUT ROWID` table keyed by `(bucket, key)` (records in
/// random leaves: more pages written per insert once the table is large), and a map of our own
/// from key text to rowid (a hash and a cache miss per insert: ~0.3 µs). See bench/README.md,
/// "Making the sqlite write path cheaper" and the issue 13 rounds after it.
final class SQLiteRecordLog {
    private unowned let db: SQLiteDatabase
    private let updateRow: Statement
    private let deleteRow: Statement
    private let upsertCounter: Statement
    // Loop-thread state, never accessed re-entrantly: no dynamic exclusivity checks.
    @exclusivity(unchecked) private var recordBuffer: [UInt8] = []
    /// Counter values as last written: an unchanged counter is not written again, which spares
    /// most commits a page of WAL (only autoincrement buckets move their counter).
    private var savedCounters: [String: Int64] = [:]
    /// Rows the store did not load, per bucket and key text: a record the store skipped (a
    /// unique index added since), or one of a bucket it does not load (`persistent: false`).
    /// An insert of such a key deletes the old row, so a key never has two rows. Empty but for
    /// such databases.
    @exclusivity(unchecked) private var unloaded: [String: [[UInt8]: Int64]] = [:]
    /// The `unloaded` rows the transaction being written deletes: back into `unloaded` if it
    /// rolls back.
    private var unloadedTaken: [(bucket: String, key: [UInt8], rowid: Int64)] = []

    /// Inserts of one batch waiting to be written together, at most `maxGroup`: the bucket,
    /// every key's and record's text back to back, where each row ends, and their rowids.
    /// 64 rather than 16: ~150 instructions less per insert at ~60 inserts per commit (SQLite's
    /// per-statement work shared by more rows; bench/README.md, issue 13, fifth round).
    static let maxGroup = 64
    @exclusivity(unchecked) private var groupBucket = ""
    @exclusivity(unchecked) private var groupKeys: [UInt8] = []
    @exclusivity(unchecked) private var groupRecords: [UInt8] = []
    @exclusivity(unchecked) private var groupEnds: [(key: Int, record: Int, rowid: Int64)] = []
    /// `INSERT` statements by row count (1...maxGroup), prepared when first needed.
    private var insertStatements: [Statement?] = Array(repeating: nil, count: maxGroup + 1)
    /// The table's largest rowid, when known exactly (nil after a delete of that row or a
    /// rollback). A row whose rowid is one more goes in with a NULL rowid, which SQLite then
    /// gives it (largest + 1) without searching the table: a rowid given explicitly costs a
    /// descent of the B-tree per row, ~900 instructions (bench/README.md, "The store gives each
    /// record its rowid"). Rows of a batch of inserts mostly have consecutive rowids.
    @exclusivity(unchecked) var tableMax: Int64?

    init(_ db: SQLiteDatabase) throws(PersistenceError) {
        self.db = db
        updateRow = try db.statement(SQLiteSchema.updateRecord)
        deleteRow = try db.statement(SQLiteSchema.deleteRecord)
        upsertCounter = try db.statement(SQLiteSchema.upsertCounter)
    }

    /// Records one mutation. Inserts wait (up to `maxGroup` of one bucket) to go out as one
    /// multi-row INSERT; anything else first writes the waiting ones. `flush` ends a batch.
    func write(_ e: borrowing MutationBatch.Entry) throws(PersistenceError) {
        if e.kind == .inserted {
            return try groupInsert(bucket: e.bucket, key: e.key, record: e.record, rowid: e.rowid)
        }
        try flush()
        if e.kind == .updated {
            try run(updateRow, e.rowid, record: e.record)
            // No row (the store's record was never written: its bucket was not durable then):
            // written as new, under its rowid.
            if sqlite3_changes(db.handle) == 0 {
                // Its rowid may be below the table's largest: that stays known only if it was.
                let known = tableMax != nil
                try groupInsert(bucket: e.bucket, key: e.key, record: e.record, rowid: e.rowid)
                try flush()
                if !known { tableMax = nil }
            }
        } else {
            try delete(row: e.rowid)
        }
    }

    private func delete(row rowid: Int64) throws(PersistenceError) {
        if rowid == tableMax { tableMax = nil }
        try run(deleteRow, rowid, record: nil)
    }

    /// Adds an insert to the waiting group (written first if it is of another bucket or full).
    private func groupInsert(bucket: borrowing String, key: borrowing JSON, record: borrowing JSONObject, rowid: Int64) throws(PersistenceError) {
        if !groupEnds.isEmpty && groupBucket != bucket { try flush() }
        if groupEnds.isEmpty { groupBucket = copy bucket }
        let keyStart = groupKeys.count
        Self.serializeKey(key, into: &groupKeys)
        if !unloaded.isEmpty { try deleteUnloaded(bucket: groupBucket, key: groupKeys[keyStart...]) }
        // The store serialised the record when it wrote it (JSONObject.attachText).
        if let text = record.attachedText { groupRecords.append(contentsOf: text) } else { record.serialize(into: &groupRecords) }
        groupEnds.append((groupKeys.count, groupRecords.count, rowid))
        if groupEnds.count == Self.maxGroup { try flush() }
    }

    /// Deletes the unloaded row of `key` in `bucket`, if there is one.
    private func deleteUnloaded(bucket: String, key: ArraySlice<UInt8>) throws(PersistenceError) {
        let text = Array(key)
        guard let rowid = unloaded[bucket]?.removeValue(forKey: text) else { return }
        if unloaded[bucket]!.isEmpty { unloaded[bucket] = nil }
        unloadedTaken.append((bucket, text, rowid))
        try delete(row: rowid)
    }

    /// Writes the waiting inserts with one statement: ?1 the bucket, then rowid (NULL when SQLite
    /// gives the same: `tableMax`), key and record of each row, bound without copies while the
    /// bytes are lent.
    func flush() throws(PersistenceError) {
        guard !groupEnds.isEmpty else { return }
        defer { clearGroup() }
        let s = try insertStatement(rows: groupEnds.count)
        s.reset()
        var name = groupBucket
        let ends = groupEnds
        let result: Result<Void, PersistenceError> = name.withUTF8 { b in
            groupKeys.withUnsafeBytes { keys in
                groupRecords.withUnsafeBytes { records in
                    s.bindNoCopy(1, UnsafeRawBufferPointer(b))
                    var key = 0, record = 0
                    for (i, end) in ends.enumerated() {
                        if let max = tableMax, end.rowid == max + 1 { s.bindNull(Int32(2 + 3 * i)) } else { s.bind(Int32(2 + 3 * i), end.rowid) }
                        // A rowid the store gives is larger than every row's (see `write` for
                        // the one exception).
                        tableMax = Swift.max(tableMax ?? end.rowid, end.rowid)
                        s.bindNoCopy(Int32(3 + 3 * i), UnsafeRawBufferPointer(rebasing: keys[key..<end.key]))
                        s.bindNoCopy(Int32(4 + 3 * i), UnsafeRawBufferPointer(rebasing: records[record..<end.record]))
                        (key, record) = (end.key, end.record)
                    }
                    return Result { () throws(PersistenceError) in try s.run() }
                }
            }
        }
        try result.get()
        // Never expected: a row got a rowid other than its record's (the batch then fails).
        guard sqlite3_last_insert_rowid(db.handle) == ends.last!.rowid else {
            tableMax = nil
            throw PersistenceError("\(db.path): a record's row got rowid \(sqlite3_last_insert_rowid(db.handle)), not its \(ends.last!.rowid)")
        }
    }

    /// The INSERT of `rows` rows, prepared on first use.
    private func insertStatement(rows: Int) throws(PersistenceError) -> Statement {
        if let s = insertStatements[rows] { return s }
        let s = try db.statement(SQLiteSchema.insertRecords(rows))
        insertStatements[rows] = s
        return s
    }

    private func clearGroup() {
        groupKeys.removeAll(keepingCapacity: true)
        groupRecords.removeAll(keepingCapacity: true)
        groupEnds.removeAll(keepingCapacity: true)
    }

    /// Runs `s` on row ?1 `rowid`, with ?2 the record's text when given.
    private func run(_ s: Statement, _ rowid: Int64, record: JSONObject?) throws(PersistenceError) {
        s.reset()
        s.bind(1, rowid)
        guard let record else { return try s.run() }
        let result: Result<Void, PersistenceError> = recordText(record).withUnsafeBytes { r in
            s.bindNoCopy(2, r)
            return Result { () throws(PersistenceError) in try s.run() }
        }
        try result.get()
    }

    /// The record's JSON text: the one the store attached when it wrote it
    /// (JSONObject.attachText), else serialised into the reused buffer.
    private func recordText(_ record: JSONObject) -> [UInt8] {
        if let text = record.attachedText { return text }
        recordBuffer.removeAll(keepingCapacity: true)
        record.serialize(into: &recordBuffer)
        return recordBuffer
    }

    /// Notes a row the store did not load (at start). Returns false when its key already has
    /// an unloaded row (the later row is then to be deleted, as a loaded key's later rows are).
    func noteUnloaded(bucket: String, key: [UInt8], rowid: Int64) -> Bool {
        if unloaded[bucket]?[key] != nil { return false }
        unloaded[bucket, default: [:]][key] = rowid
        return true
    }

    /// A key's JSON text. Most keys are strings that need no escape: their text is the bytes
    /// in quotes, written straight into the buffer (the serializer sets up a writer of its own
    /// and copies out of it: ~680 instructions per write, against ~460; bench/README.md, issue
    /// 13, third round). Anything else goes through the serializer. The bytes are exactly the
    /// serializer's either way, so rows written before are found by the same text.
    static func serializeKey(_ key: JSON, into buffer: inout [UInt8]) {
        if case .string(let s) = key {
            let plain: Bool? = s.utf8.withContiguousStorageIfAvailable { utf8 in
                if needsEscape(UnsafeRawBufferPointer(utf8)) { return false }
                buffer.append(UInt8(ascii: "\""))
                buffer.append(contentsOf: utf8)
                buffer.append(UInt8(ascii: "\""))
                return true
            }
            if plain == true { return }
        }
        key.serialize(into: &buffer)
    }

    /// Whether the bytes hold one the serializer escapes (below 0x20, `"` or `\`), eight at a
    /// time: a word has a byte below n when `(w - n·0x01…) & ~w & 0x80…` is not zero (n ≤ 128),
    /// and a byte equal to c when `w ^ c·0x01…` has a byte below 1. A word-level false positive
    /// cannot happen, and would only send the key through the serializer, which writes the
    /// same bytes.
    @inline(__always)
    static func needsEscape(_ p: UnsafeRawBufferPointer) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasBelow(_ w: UInt64, _ n: UInt64) -> Bool { (w &- ones &* n) & ~w & highs != 0 }
        var i = 0
        while i + 8 <= p.count {
            let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if hasBelow(w, 0x20) || hasBelow(w ^ (ones &* 0x22), 1) || hasBelow(w ^ (ones &* 0x5C), 1) { return true }
            i += 8
        }
        while i < p.count {
            let b = p[i]
            if b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return true }
            i += 1
        }
        return false
    }

    func saveCounter(_ bucket: String, _ value: Int64) throws(PersistenceError) {
        guard savedCounters[bucket] != value else { return }
        savedCounters[bucket] = value
        upsertCounter.reset()
        upsertCounter.bind(1, bucket)
        upsertCounter.bind(2, value)
        try upsertCounter.run()
    }

    /// A dropped bucket's counter row is gone: write it again if the bucket comes back.
    /// Its rows are gone too.
    func forget(bucket: String) {
        savedCounters[bucket] = nil
        tableMax = nil
        unloaded[bucket] = nil
    }

    /// The transaction committed: the unloaded rows it deleted are gone for good.
    func committed() {
        unloadedTaken.removeAll()
    }

    /// The transaction rolled back: what was written is unknown, so every counter is written
    /// again by the next commit, and the unloaded rows it deleted are there again.
    func rolledBack() {
        clearGroup()
        tableMax = nil
        savedCounters = [:]
        for t in unloadedTaken { unloaded[t.bucket, default: [:]][t.key] = t.rowid }
        unloadedTaken.removeAll()
    }
}
