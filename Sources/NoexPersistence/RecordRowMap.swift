import NoexStore
#if canImport(Glibc)
import Glibc
#endif

/// Where one bucket's records are in the `records` table: a key's JSON text → its row's rowid.
///
/// Format version 2 has no `(bucket, key)` index: an update or delete finds its row here and
/// names it by rowid, and an insert appends a row and notes its rowid (bench/README.md, issue
/// 13, fourth round). The map is built from every row at start and must always describe the
/// table exactly; `SQLiteRecordLog` rebuilds it after a rolled-back transaction.
///
/// Open addressing with linear probing. Each entry holds the key's full hash, its rowid and
/// where its text sits in `keys`, one byte array for all of them: no allocation per key, and a
/// probe compares bytes only when the hashes are equal. A removed key's bytes stay in `keys`
/// until they are half of it, then the live keys are copied into a fresh array. The hash is
/// Swift's per-process seeded `Hasher`, so chosen keys cannot force collisions.
final class RecordRowMap {
    private struct Entry {
        var hash: Int
        var rowid: Int64
        var offset: UInt32
        /// `UInt32.max`: empty.
        var length: UInt32

        static let empty = Entry(hash: 0, rowid: 0, offset: 0, length: .max)
        var isEmpty: Bool { length == .max }
    }

    // Used on the loop thread only and never re-entrantly: no dynamic exclusivity checks
    // (three per write otherwise, ~80 instructions each).
    @exclusivity(unchecked) private var entries: ContiguousArray<Entry> = []
    @exclusivity(unchecked) private var keys: [UInt8] = []
    /// Bytes of `keys` no entry refers to any more.
    @exclusivity(unchecked) private var garbage = 0
    @exclusivity(unchecked) private(set) var count = 0

    /// The rows of one bucket as a scan of the table reads them, mapped at once by
    /// `init(_:duplicates:)` into a map sized for all of them: it never doubles while it fills
    /// (each doubling re-placed every entry, at start on tables that no longer fit the caches).
    /// The keys' bytes become the map's `keys` as they are.
    struct Scanned {
        fileprivate var keys: [UInt8] = []
        fileprivate var rows: [(rowid: Int64, hash: Int, end: UInt32)] = []

        mutating func append(_ key: UnsafeRawBufferPointer, rowid: Int64) throws(PersistenceError) {
            guard keys.count + key.count < Int(UInt32.max) else { throw RecordRowMap.tooLarge }
            keys.append(contentsOf: key)
            rows.append((rowid, RecordRowMap.hash(key), UInt32(keys.count)))
        }
    }

    private static var tooLarge: PersistenceError {
        PersistenceError("the keys of one bucket take more than 4 GiB: the sqlite engine cannot map them")
    }

    init() {}

    /// Maps scanned rows. A key read again keeps its first row; the later rows' rowids are
    /// appended to `duplicates` (never written by a server: a database edited by hand).
    init(_ scanned: consuming Scanned, duplicates: inout [Int64]) {
        var capacity = 16
        while capacity < 2 * (scanned.rows.count + 1) { capacity *= 2 }
        entries = ContiguousArray(repeating: .empty, count: capacity)
        keys = scanned.keys
        var start: UInt32 = 0
        for row in scanned.rows {
            let length = row.end - start
            let i = keys.withUnsafeBytes { k in
                position(UnsafeRawBufferPointer(rebasing: k[Int(start)..<Int(row.end)]), row.hash)
            }
            if entries[i].isEmpty {
                entries[i] = Entry(hash: row.hash, rowid: row.rowid, offset: start, length: length)
                count += 1
            } else {
                duplicates.append(row.rowid)
                garbage += Int(length)
            }
            start = row.end
        }
    }

    static func hash(_ key: UnsafeRawBufferPointer) -> Int {
        var h = Hasher()
        h.combine(bytes: key)
        return h.finalize()
    }

    /// The rowid of the row holding `key`, or nil.
    func rowid(_ key: UnsafeRawBufferPointer, hash: Int) -> Int64? {
        guard count > 0 else { return nil }
        let i = position(key, hash)
        return entries[i].isEmpty ? nil : entries[i].rowid
    }

    /// Notes that `key`'s row is `rowid`; returns the rowid it had before, if any (that row is
    /// then no longer the key's and must go).
    func set(_ key: UnsafeRawBufferPointer, hash: Int, rowid: Int64) throws(PersistenceError) -> Int64? {
        if (count + 1) * 2 > entries.count { grow() }
        let i = position(key, hash)
        if !entries[i].isEmpty {
            let old = entries[i].rowid
            entries[i].rowid = rowid
            return old
        }
        guard keys.count + key.count < Int(UInt32.max) else { throw Self.tooLarge }
        entries[i] = Entry(hash: hash, rowid: rowid, offset: UInt32(keys.count), length: UInt32(key.count))
        keys.append(contentsOf: key)
        count += 1
        return nil
    }

    /// Forgets `key`; returns the rowid of its row (nil when it has none). Later entries of the
    /// probe run shift back, so lookups never meet tombstones.
    func remove(_ key: UnsafeRawBufferPointer, hash: Int) -> Int64? {
        guard count > 0 else { return nil }
        let i = position(key, hash)
        guard !entries[i].isEmpty else { return nil }
        let rowid = entries[i].rowid
        garbage += Int(entries[i].length)
        entries.withUnsafeMutableBufferPointer { e in
            LinearProbing.remove(at: i, in: e, empty: .empty, isEmpty: { $0.isEmpty }, hash: { $0.hash })
        }
        count -= 1
        if garbage > 65_536 && garbage * 2 > keys.count { compactKeys() }
        return rowid
    }

    /// The entry holding `key`, or the empty one where it would go.
    @inline(__always)
    private func position(_ key: UnsafeRawBufferPointer, _ hash: Int) -> Int {
        entries.withUnsafeBufferPointer { e in
            keys.withUnsafeBytes { k in
                let mask = e.count - 1
                var i = hash & mask
                while !e[i].isEmpty {
                    if e[i].hash == hash && Int(e[i].length) == key.count
                        && (key.isEmpty || memcmp(k.baseAddress! + Int(e[i].offset), key.baseAddress!, key.count) == 0)
                    {
                        return i
                    }
                    i = (i + 1) & mask
                }
                return i
            }
        }
    }

    /// Doubles the capacity (at most half full after), re-placing entries by their stored hashes.
    private func grow() {
        let capacity = Swift.max(16, entries.count * 2)
        var fresh = ContiguousArray(repeating: Entry.empty, count: capacity)
        let mask = capacity - 1
        fresh.withUnsafeMutableBufferPointer { f in
            for old in entries where !old.isEmpty {
                var i = old.hash & mask
                while !f[i].isEmpty { i = (i + 1) & mask }
                f[i] = old
            }
        }
        entries = fresh
    }

    /// Copies the live keys into a fresh array (removed keys' bytes dropped).
    private func compactKeys() {
        var fresh: [UInt8] = []
        fresh.reserveCapacity(keys.count - garbage)
        keys.withUnsafeBufferPointer { k in
            entries.withUnsafeMutableBufferPointer { e in
                for i in e.indices where !e[i].isEmpty {
                    let start = Int(e[i].offset)
                    e[i].offset = UInt32(fresh.count)
                    fresh.append(contentsOf: k[start..<start + Int(e[i].length)])
                }
            }
        }
        keys = fresh
        garbage = 0
    }
}
