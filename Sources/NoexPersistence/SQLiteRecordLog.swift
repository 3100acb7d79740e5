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
/// again, and (format version 2) no index is written: each record's rowid is kept in a
/// `RecordRowMap` per bucket, so an insert appends a row (up to `maxGroup` inserts of one bucket
/// in one statement, which spares SQLite's per-statement work) and an update or delete names its
/// row by rowid (bench/README.md, issue 13, fourth round).
///
/// Tried and dropped: a Swift dictionary of JSON keys → rowid (cost as much CPU per insert as
/// the B-tree work it saved), and a `WITHOUT ROWID` table keyed by `(bucket, key)` (records in
/// random leaves: more pages written per insert once the table is large). See bench/README.md,
/// "Making the sqlite write path cheaper" and the issue 13 rounds after it.
final class SQLiteRecordLog {
    private unowned let db: SQLiteDatabase
    private let updateRow: Statement
    private let deleteRow: Statement
    private let upsertCounter: Statement
    // Loop-thread state, never accessed re-entrantly: no dynamic exclusivity checks.
    @exclusivity(unchecked) private var keyBuffer: [UInt8] = []
    @exclusivity(unchecked) private var recordBuffer: [UInt8] = []
    /// Counter values as last written: an unchanged counter is not written again, which spares
    /// most commits a page of WAL (only autoincrement buckets move their counter).
    private var savedCounters: [String: Int64] = [:]
    /// Every row of `records`, per bucket name. Nil after a rolled-back transaction (what the
    /// map then says is unknown): the next write rebuilds it from the table.
    private var rows: [String: RecordRowMap]? = [:]
    /// The bucket written last and its map (a batch is mostly one bucket's writes).
    @exclusivity(unchecked) private var lastBucket = ""
    @exclusivity(unchecked) private var lastRows: RecordRowMap?

    /// Inserts of one batch waiting to be written together, at most `maxGroup`: the bucket
    /// and its row map, every key's and record's text back to back, and where each row ends.
    /// 64 rather than 16: ~150 instructions less per insert at ~60 inserts per commit (SQLite's
    /// per-statement work shared by more rows; bench/README.md, issue 13, fifth round).
    static let maxGroup = 64
    @exclusivity(unchecked) private var groupBucket = ""
    @exclusivity(unchecked) private var groupMap: RecordRowMap?
    @exclusivity(unchecked) private var groupKeys: [UInt8] = []
    @exclusivity(unchecked) private var groupRecords: [UInt8] = []
    @exclusivity(unchecked) private var groupEnds: [(key: Int, record: Int)] = []
    /// The hashes of the keys of the rows `insertRows` is writing.
    @exclusivity(unchecked) private var groupHashes: [Int] = []
    /// `INSERT` statements by row count (1...maxGroup), prepared when first needed.
    private var insertStatements: [Statement?] = Array(repeating: nil, count: maxGroup + 1)
    /// At least the table's largest rowid (a delete may have lowered the real one).
    @exclusivity(unchecked) private var maxRowid: Int64 = 0

    init(_ db: SQLiteDatabase) throws(PersistenceError) {
        self.db = db
        updateRow = try db.statement(SQLiteSchema.updateRecord)
        deleteRow = try db.statement(SQLiteSchema.deleteRecord)
        upsertCounter = try db.statement(SQLiteSchema.upsertCounter)
    }

    /// The row map of `bucket` (made empty on first use).
    func rowMap(_ bucket: String) throws(PersistenceError) -> RecordRowMap {
        if let lastRows, lastBucket == bucket { return lastRows }
        if rows == nil { try rebuild() }
        let map: RecordRowMap
        if let m = rows![bucket] { map = m } else {
            map = RecordRowMap()
            rows![bucket] = map
        }
        lastBucket = bucket
        lastRows = map
        return map
    }

    /// Records one mutation. Inserts wait (up to `maxGroup` of one bucket) to go out as one
    /// multi-row INSERT; anything else first writes the waiting ones. `flush` ends a batch.
    func write(_ e: borrowing MutationBatch.Entry) throws(PersistenceError) {
        if e.kind == .inserted {
            return try groupInsert(bucket: e.bucket, key: e.key, record: e.record)
        }
        try flush()
        let map = try rowMap(e.bucket)
        keyBuffer.removeAll(keepingCapacity: true)
        Self.serializeKey(e.key, into: &keyBuffer)
        if e.kind == .updated {
            let rowid = keyBuffer.withUnsafeBytes { map.rowid($0, hash: RecordRowMap.hash($0)) }
            guard let rowid else {
                // No row (the map always mirrors the table, so never expected): write it as new.
                try groupInsert(bucket: e.bucket, key: e.key, record: e.record)
                return try flush()
            }
            try run(updateRow, rowid, record: e.record)
        } else {
            guard let rowid = keyBuffer.withUnsafeBytes({ map.remove($0, hash: RecordRowMap.hash($0)) }) else { return }
            try run(deleteRow, rowid, record: nil)
        }
    }

    /// Adds an insert to the waiting group (written first if it is of another bucket or full).
    private func groupInsert(bucket: borrowing String, key: borrowing JSON, record: borrowing JSONObject) throws(PersistenceError) {
        if !groupEnds.isEmpty && groupBucket != bucket { try flush() }
        if groupEnds.isEmpty {
            groupBucket = copy bucket
            groupMap = try rowMap(groupBucket)
        }
        Self.serializeKey(key, into: &groupKeys)
        // The store serialised the record when it wrote it (JSONObject.attachText).
        if let text = record.attachedText { groupRecords.append(contentsOf: text) } else { record.serialize(into: &groupRecords) }
        groupEnds.append((groupKeys.count, groupRecords.count))
        if groupEnds.count == Self.maxGroup { try flush() }
    }

    /// Writes the waiting inserts: one statement for all of them while rowids are handed out
    /// as the table's largest + 1 (SQLite's rule below the largest possible rowid), so the
    /// rows got `last - n + 1 ... last`; one statement per row otherwise.
    func flush() throws(PersistenceError) {
        guard !groupEnds.isEmpty, let map = groupMap else { return }
        defer { clearGroup() }
        let n = groupEnds.count
        let chunk = maxRowid < Int64.max - Int64(Self.maxGroup) ? n : 1
        var stale: [Int64] = []
        for first in stride(from: 0, to: n, by: chunk) {
            stale += try insertRows(groupBucket, map, first..<first + chunk)
        }
        for rowid in stale { try run(deleteRow, rowid, record: nil) }
    }

    /// Inserts the waiting rows `range` with one statement (?1 the bucket, then key and record
    /// of each row, bound without copies while the bytes are lent) and notes their rowids.
    /// Returns rows their keys had before (never expected: a stored record the store skipped
    /// at load, e.g. for a unique conflict), which must go.
    private func insertRows(_ bucket: String, _ map: RecordRowMap, _ range: Range<Int>) throws(PersistenceError) -> [Int64] {
        let s = try insertStatement(rows: range.count)
        s.reset()
        var name = bucket
        let ends = groupEnds
        let result: Result<[Int64], PersistenceError> = name.withUTF8 { b in
            groupKeys.withUnsafeBytes { keys in
                groupRecords.withUnsafeBytes { records in
                    s.bindNoCopy(1, UnsafeRawBufferPointer(b))
                    groupHashes.removeAll(keepingCapacity: true)
                    for (j, i) in range.enumerated() {
                        let key = UnsafeRawBufferPointer(rebasing: keys[i == 0 ? 0..<ends[0].key : ends[i - 1].key..<ends[i].key])
                        let record = i == 0 ? 0..<ends[0].record : ends[i - 1].record..<ends[i].record
                        s.bindNoCopy(Int32(2 + 2 * j), key)
                        s.bindNoCopy(Int32(3 + 2 * j), UnsafeRawBufferPointer(rebasing: records[record]))
                        // The map's positions for these keys are fetched while SQLite inserts
                        // the rows: the misses of a map larger than the caches overlap with that
                        // work instead of coming one by one in the loop below.
                        let hash = RecordRowMap.hash(key)
                        groupHashes.append(hash)
                        map.prefetch(hash: hash)
                    }
                    return Result { () throws(PersistenceError) -> [Int64] in
                        try s.run()
                        let last = sqlite3_last_insert_rowid(db.handle)
                        maxRowid = Swift.max(maxRowid, last)
                        var stale: [Int64] = []
                        for (j, i) in range.enumerated() {
                            let k = UnsafeRawBufferPointer(rebasing: keys[i == 0 ? 0..<ends[0].key : ends[i - 1].key..<ends[i].key])
                            let rowid = last - Int64(range.count - 1 - j)
                            if let old = try map.set(k, hash: groupHashes[j], rowid: rowid) { stale.append(old) }
                        }
                        return stale
                    }
                }
            }
        }
        return try result.get()
    }

    /// The INSERT of `rows` rows, prepared on first use.
    private func insertStatement(rows: Int) throws(PersistenceError) -> Statement {
        if let s = insertStatements[rows] { return s }
        let s = try db.statement(SQLiteSchema.insertRecords(rows))
        insertStatements[rows] = s
        return s
    }

    private func clearGroup() {
        groupMap = nil
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

    /// Maps every row of the table (at start, and after a rolled-back transaction). Returns the
    /// rows a key already had an earlier row for, which the caller deletes: the earlier row is
    /// the one a load keeps (never expected, since writes keep one row per key). Each bucket's
    /// rows are collected first and mapped after the scan, into a map sized for them.
    @discardableResult
    func rebuild(visit: ((_ rowid: Int64, _ bucket: String, _ row: Statement) throws(PersistenceError) -> Void)? = nil)
        throws(PersistenceError) -> [Int64]
    {
        rows = nil
        lastRows = nil
        lastBucket = ""
        var scanned: [String: RecordRowMap.Scanned] = [:]
        let scan = try db.statement(visit == nil ? SQLiteSchema.mapRows : SQLiteSchema.loadRows)
        defer { scan.reset() }
        // Rows come in rowid order, mostly in runs of one bucket: its rows are collected per run
        // (the name compared by its bytes).
        var current: (name: String, bytes: [UInt8])?
        var run = RecordRowMap.Scanned()
        while try scan.step() {
            let rowid = scan.int(0)
            maxRowid = Swift.max(maxRowid, rowid)
            let bucket = scan.bytes(1)
            let same = current.map { c in
                c.bytes.count == bucket.count && c.bytes.withUnsafeBytes { memcmp($0.baseAddress!, bucket.baseAddress!, bucket.count) == 0 }
            } ?? false
            if !same {
                if let c = current { scanned[c.name] = run }
                let name = String(decoding: bucket, as: UTF8.self)
                run = scanned.removeValue(forKey: name) ?? RecordRowMap.Scanned()
                current = (name, Array(bucket))
            }
            try run.append(scan.bytes(2), rowid: rowid)
            try visit?(rowid, current!.name, scan)
        }
        if let c = current { scanned[c.name] = run }
        var duplicates: [Int64] = []
        var fresh: [String: RecordRowMap] = [:]
        for (name, rows) in scanned { fresh[name] = RecordRowMap(rows, duplicates: &duplicates) }
        rows = fresh
        return duplicates
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
        rows?[bucket] = nil
        if lastBucket == bucket {
            lastRows = nil
            lastBucket = ""
        }
    }

    /// The transaction rolled back: what was written is unknown, so every counter is written
    /// again by the next commit and the row maps are rebuilt from the table.
    func rolledBack() {
        clearGroup()
        savedCounters = [:]
        rows = nil
        lastRows = nil
        lastBucket = ""
    }
}
