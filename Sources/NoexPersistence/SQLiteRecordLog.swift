import CSQLite
import NoexJSON
import NoexStore

/// Writes the store's record mutations into the `records` table on the group-commit path.
///
/// Cheap per write because the statements are prepared once and held (no lookup by SQL text),
/// the record's text is the one the store attached when it wrote it (or goes, like the key,
/// through a reused buffer), bound without a copy, and a counter that did not
/// change is not written again.
///
/// Tried and dropped: keeping key → rowid in memory instead of the `(bucket, key)` index (the
/// Swift dictionary of JSON keys cost as much CPU per insert as the B-tree work it saved), and a
/// `WITHOUT ROWID` table keyed by `(bucket, key)` with an insertion sequence (one B-tree per
/// write, but records in random leaves: more pages written per insert once the table is
/// large). See bench/README.md, "Making the sqlite write path cheaper".
final class SQLiteRecordLog {
    private let insertRow: Statement
    private let updateRow: Statement
    private let deleteRow: Statement
    private let upsertCounter: Statement
    private var keyBuffer: [UInt8] = []
    private var recordBuffer: [UInt8] = []
    /// Counter values as last written: an unchanged counter is not written again, which spares
    /// most commits a page of WAL (only autoincrement buckets move their counter).
    private var savedCounters: [String: Int64] = [:]

    init(_ db: SQLiteDatabase) throws(PersistenceError) {
        insertRow = try db.statement(SQLiteSchema.insertRecord)
        updateRow = try db.statement(SQLiteSchema.updateRecord)
        deleteRow = try db.statement(SQLiteSchema.deleteRecord)
        upsertCounter = try db.statement(SQLiteSchema.upsertCounter)
    }

    func write(_ e: StoreEvent) throws(PersistenceError) {
        switch e {
        case .inserted(let b, let key, let r):
            try run(insertRow, b, key, r)
        case .updated(let b, let key, _, let r):
            try run(updateRow, b, key, r)
        case .deleted(let b, let key, _):
            try run(deleteRow, b, key, nil)
        }
    }

    /// Binds ?1 bucket, ?2 serialised key and (when given) ?3 serialised record without
    /// copies, then runs while the bytes are lent.
    private func run(_ s: Statement, _ bucket: String, _ key: JSON, _ record: JSONObject?) throws(PersistenceError) {
        s.reset()
        keyBuffer.removeAll(keepingCapacity: true)
        Self.serializeKey(key, into: &keyBuffer)
        // The store serialised the record when it wrote it (JSONObject.attachText).
        let text = record?.attachedText
        if text == nil, let record {
            recordBuffer.removeAll(keepingCapacity: true)
            record.serialize(into: &recordBuffer)
        }
        var name = bucket
        let result: Result<Void, PersistenceError> = name.withUTF8 { b in
            keyBuffer.withUnsafeBytes { k in
                s.bindNoCopy(1, UnsafeRawBufferPointer(b))
                s.bindNoCopy(2, k)
                guard record != nil else { return Result { () throws(PersistenceError) in try s.run() } }
                return (text ?? recordBuffer).withUnsafeBytes { r in
                    s.bindNoCopy(3, r)
                    return Result { () throws(PersistenceError) in try s.run() }
                }
            }
        }
        try result.get()
    }

    /// A key's JSON text. Most keys are strings that need no escape: their text is the bytes
    /// in quotes, written straight into the buffer (the serializer sets up a writer of its own
    /// and copies out of it: ~680 instructions per write, against ~460; bench/README.md, issue
    /// 13, third round). Anything else goes through the serializer. The bytes are exactly the
    /// serializer's either way, so rows written before are found by the same text.
    static func serializeKey(_ key: JSON, into buffer: inout [UInt8]) {
        if case .string(let s) = key {
            let plain: Bool? = s.utf8.withContiguousStorageIfAvailable { utf8 in
                for b in utf8 where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return false }
                buffer.append(UInt8(ascii: "\""))
                buffer.append(contentsOf: utf8)
                buffer.append(UInt8(ascii: "\""))
                return true
            }
            if plain == true { return }
        }
        key.serialize(into: &buffer)
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
    func forget(bucket: String) { savedCounters[bucket] = nil }

    /// The transaction rolled back: what was written is unknown, so every counter is written
    /// again by the next commit.
    func rolledBack() { savedCounters = [:] }
}
