import CUV
import NoexJSON

/// Where one bucket's records are in the `records` table: a key's JSON text → its row's rowid.
///
/// Format version 2 has no `(bucket, key)` index: an update or delete finds its row here and
/// names it by rowid, and an insert appends a row and notes its rowid (bench/README.md, issue
/// 13, fourth round). The map is built from every row at start and must always describe the
/// table exactly; `SQLiteRecordLog` rebuilds it after a rolled-back transaction.
///
/// A `SteppedHashTable` (open addressing with linear probing, doubling in steps so no insert
/// re-places every entry): each entry holds the key's full hash, its rowid and where its text
/// sits in `keys` (`KeyTextChunks`): no allocation per key, and a probe compares bytes only
/// when the hashes are equal. A removed key's bytes stay in `keys` until they are half of it,
/// then the live keys are copied into fresh chunks. The hash is Swift's per-process seeded
/// `Hasher`, so chosen keys cannot force collisions.
final class RecordRowMap {
    struct Entry: SteppedHashEntry {
        var hash: Int
        var rowid: Int64
        /// Where the key's text is in `keys`.
        var address: UInt32
        /// 0: empty (zeroed memory is an empty table); `UInt32.max`: moved; otherwise the key's
        /// length plus one.
        var tag: UInt32

        var length: Int { Int(tag) - 1 }
        var isKey: Bool { tag != 0 && tag != .max }
        var isEmpty: Bool { tag == 0 }
        static var empty: Entry { Entry(hash: 0, rowid: 0, address: 0, tag: 0) }
        static var moved: Entry { Entry(hash: 0, rowid: 0, address: 0, tag: .max) }
    }

    // Used on the loop thread only and never re-entrantly: no dynamic exclusivity checks
    // (three per write otherwise, ~80 instructions each).
    @exclusivity(unchecked) private var table = SteppedHashTable<Entry>()
    @exclusivity(unchecked) private var keys = KeyTextChunks()
    /// Bytes of `keys` no entry refers to any more.
    @exclusivity(unchecked) private var garbage = 0
    /// Bytes of `keys` in all.
    @exclusivity(unchecked) private var keyBytes = 0

    var count: Int { table.count }

    /// The rows of one bucket as a scan of the table reads them, mapped at once by
    /// `init(_:duplicates:)` into a map sized for all of them: it never grows while it fills
    /// (each doubling re-placed every entry, at start on tables that no longer fit the caches).
    /// The keys' bytes become the map's `keys` as they are.
    struct Scanned {
        fileprivate var keys = KeyTextChunks()
        fileprivate var keyBytes = 0
        fileprivate var rows: [(rowid: Int64, hash: Int, address: UInt32, length: Int)] = []

        mutating func append(_ key: UnsafeRawBufferPointer, rowid: Int64) throws(PersistenceError) {
            rows.append((rowid, RecordRowMap.hash(key), try keys.append(key), key.count))
            keyBytes += key.count
        }
    }

    init() {}

    /// Maps scanned rows. A key read again keeps its first row; the later rows' rowids are
    /// appended to `duplicates` (never written by a server: a database edited by hand).
    init(_ scanned: consuming Scanned, duplicates: inout [Int64]) {
        table.reserveCapacity(scanned.rows.count)
        keys = scanned.keys
        keyBytes = scanned.keyBytes
        for row in scanned.rows {
            let key = keys.bytes(row.address, count: row.length)
            let entry = Entry(hash: row.hash, rowid: row.rowid, address: row.address, tag: UInt32(row.length + 1))
            if table.findOrInsert(row.hash, entry, { self.matches($0, key) }) != nil {
                duplicates.append(row.rowid)
                garbage += row.length
            }
        }
    }

    static func hash(_ key: UnsafeRawBufferPointer) -> Int {
        var h = Hasher()
        h.combine(bytes: key)
        return h.finalize()
    }

    /// Whether `e` is `key`'s entry. (Called from closures written at each use: a closure
    /// returned by a function escapes, and allocated its context on every call.)
    @inline(__always)
    private func matches(_ e: Entry, _ key: UnsafeRawBufferPointer) -> Bool {
        e.length == key.count && keys.equals(e.address, key)
    }

    /// The rowid of the row holding `key`, or nil.
    func rowid(_ key: UnsafeRawBufferPointer, hash: Int) -> Int64? {
        table.find(hash) { matches($0, key) }?.rowid
    }

    /// Has the cache fetch the table positions a `set` or lookup of `hash` will probe, without
    /// waiting for them (SteppedHashTable.probeStarts).
    @inline(__always)
    func prefetch(hash: Int) {
        let (now, old) = table.probeStarts(hash)
        if let now { noex_prefetch(now) }
        if let old { noex_prefetch(old) }
    }

    /// Notes that `key`'s row is `rowid`; returns the rowid it had before, if any (that row is
    /// then no longer the key's and must go).
    func set(_ key: UnsafeRawBufferPointer, hash: Int, rowid: Int64) throws(PersistenceError) -> Int64? {
        guard key.count < Int(UInt32.max) - 1 else { throw KeyTextChunks.tooLarge }
        // Appended first, so a new key (nearly every call) costs one probe.
        let address = try keys.append(key)
        let entry = Entry(hash: hash, rowid: rowid, address: address, tag: UInt32(key.count + 1))
        if let old = table.findOrInsert(hash, entry, { self.matches($0, key) }) {
            keys.removeLast(key.count)
            _ = table.modify(hash, { self.matches($0, key) }) { $0.rowid = rowid }
            return old.rowid
        }
        keyBytes += key.count
        return nil
    }

    /// Forgets `key`; returns the rowid of its row (nil when it has none).
    func remove(_ key: UnsafeRawBufferPointer, hash: Int) -> Int64? {
        guard let removed = table.remove(hash, { matches($0, key) }) else { return nil }
        garbage += removed.length
        if garbage > 65_536 && garbage * 2 > keyBytes { compactKeys() }
        return removed.rowid
    }

    /// Copies the live keys into fresh chunks (removed keys' bytes dropped).
    private func compactKeys() {
        // Cannot run out of addresses: any two neighbouring chunks hold more than a chunk's
        // bytes (a key started the second because it did not fit in the first), so the live
        // keys, at most half of the bytes, fill at most one chunk more than there are now.
        guard keys.chunkCount < KeyTextChunks.maxChunks - 1 else { return }
        let fresh = KeyTextChunks()
        let from = keys
        table.updateEach { e in e.address = try! fresh.append(from.bytes(e.address, count: e.length)) }
        keys = fresh
        keyBytes -= garbage
        garbage = 0
    }
}
