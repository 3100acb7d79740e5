#if canImport(Glibc)
import Glibc
#endif

/// An entry of a `SteppedHashTable`: a key's full hash beside what the table maps it to.
/// Memory of all zero bits must read as an empty entry (tables are zeroed by the kernel).
public protocol SteppedHashEntry {
    /// The key's hash (read from key entries only).
    var hash: Int { get }
    /// The entry holds a key: it is neither empty nor moved.
    var isKey: Bool { get }
    var isEmpty: Bool { get }
    /// The empty entry: all zero bits.
    static var empty: Self { get }
    /// What an entry of the table being left becomes once moved (or removed) while growing:
    /// neither empty (a probe passes it, so the entries after it in its run stay reachable)
    /// nor a key.
    static var moved: Self { get }
}

/// The entry of a table that maps hashes to element numbers (a bucket's key index, the
/// stepped dictionary and set): the key's hash beside the number of the element holding it.
public struct HashSlot: SteppedHashEntry {
    public var hash: Int
    /// 0: empty (so zeroed memory is an empty table); -1: moved; or the number plus one.
    public var tag: Int
    @inlinable public init(hash: Int, slot: Int) { self.hash = hash; tag = slot + 1 }
    @inlinable init(hash: Int, tag: Int) { self.hash = hash; self.tag = tag }
    @inlinable public var slot: Int { @inline(__always) get { tag - 1 } }
    @inlinable public var isKey: Bool { @inline(__always) get { tag > 0 } }
    @inlinable public var isEmpty: Bool { @inline(__always) get { tag == 0 } }
    @inlinable public static var empty: HashSlot { HashSlot(hash: 0, tag: 0) }
    @inlinable public static var moved: HashSlot { HashSlot(hash: 0, tag: -1) }
}

/// An open-addressing hash table with linear probing that doubles in steps: the memory of a
/// bucket's key index (`SlotIndex`), of `SteppedDictionary` and of `InsertionOrderedSet`.
///
/// Entries keep their key's full hash, so a probe compares hashes and calls back for the key
/// only when one is equal. The keys live with the caller; `matches(entry)` compares one.
///
/// Growing never re-places every entry at once: re-placing a million keys in one go stalled
/// the loop for ~100 ms (bench/README.md, "A table that grows without stalling"). When the
/// table is half full, it becomes `old` and a table twice its size takes insertions; every
/// `insertsPerBatch` insertions move `moveBatch` of `old`'s positions over. Meanwhile a lookup
/// probes the new table, then the old one, and a removal from the old one marks the entry
/// moved (shifting entries back would carry unmoved ones behind the cursor).
public struct SteppedHashTable<Entry: SteppedHashEntry> {
    @usableFromInline var entries = TableMemory<Entry>.none
    /// While growing: the table before, holding the keys not moved to `entries` yet.
    @usableFromInline var old: TableMemory<Entry>?
    /// Positions of `old` before this one are moved.
    @usableFromInline var nextToMove = 0
    /// Insertions since the last batch of moves.
    @usableFromInline var insertsSinceMove = 0
    /// The table doubles when half full, so the new one must be done before it is half full
    /// too: after a quarter of its size in insertions. 256 positions per 32 insertions are done
    /// after an eighth. The work is spread thin on purpose: every move is a cache miss, and
    /// packed into fewer insertions (4,096 positions per 32) it doubled the p99 latency of an
    /// insert load.
    @inlinable static var moveBatch: Int { 256 }
    @inlinable static var insertsPerBatch: Int { 32 }
    /// The table the next growth moves to, made once the table is 3/8 full and written one
    /// page per 8 insertions until all of it is in memory (done at 7/16 full). A new table
    /// first touched by the moves and inserts took a page fault on nearly every write after
    /// growing (two: a probe's read maps the zero page, the write copies it), and a page per
    /// insertion slowed those by ~75% (a fault costs ~3 µs here): both doubled the p99 latency.
    @usableFromInline var next: TableMemory<Entry>?
    /// Entries of `next` from here on have not been written yet.
    @usableFromInline var nextTouched = 0
    @inlinable static var entriesPerPage: Int { Swift.max(1, 4096 / MemoryLayout<Entry>.stride) }
    /// Keys in the table.
    @usableFromInline var keyCount = 0
    @inlinable public var count: Int { keyCount }

    public init() {}

    @inlinable var growing: Bool { old != nil }

    /// The key entry with `hash` for which `matches` is true, or nil.
    @inlinable @inline(__always)
    public func find(_ hash: Int, _ matches: (Entry) -> Bool) -> Entry? {
        guard count > 0 else { return nil }
        if let found = Self.probe(entries.buffer, hash, matches).found { return found }
        guard let old else { return nil }
        return Self.probe(old.buffer, hash, matches).found
    }

    /// Where the probe for `hash` ends: the matching entry's position and the entry, or the
    /// empty position that ends its run (entry nil). Passes moved entries.
    @inlinable @inline(__always)
    static func probe(_ e: UnsafeMutableBufferPointer<Entry>, _ hash: Int, _ matches: (Entry) -> Bool)
        -> (at: Int, found: Entry?)
    {
        let mask = e.count - 1
        var i = hash & mask
        while !e[i].isEmpty {
            if e[i].hash == hash && e[i].isKey && matches(e[i]) { return (i, e[i]) }
            i = (i + 1) & mask
        }
        return (i, nil)
    }

    /// The matching entry if there is one (nothing changes); otherwise stores `entry` (whose
    /// hash is `hash`) and returns nil.
    @inlinable @inline(__always)
    public mutating func findOrInsert(_ hash: Int, _ entry: Entry, _ matches: (Entry) -> Bool) -> Entry? {
        if growing {
            moveSome()
        } else if count * 8 >= entries.count * 3 {
            prepareNext()
        }
        if (count + 1) * 2 > entries.count { startGrowing() }
        let (at, found) = Self.probe(entries.buffer, hash, matches)
        if let found { return found }
        if let old, let found = Self.probe(old.buffer, hash, matches).found { return found }
        makeUnique()
        entries.buffer[at] = entry
        keyCount += 1
        return nil
    }

    /// Changes the matching entry in place (its hash must stay); false when there is none.
    @inlinable
    public mutating func modify(_ hash: Int, _ matches: (Entry) -> Bool, _ change: (inout Entry) -> Void) -> Bool {
        guard count > 0 else { return false }
        makeUnique()
        var (at, found) = Self.probe(entries.buffer, hash, matches)
        if found != nil {
            change(&entries.buffer[at])
            return true
        }
        guard let old else { return false }
        (at, found) = Self.probe(old.buffer, hash, matches)
        if found != nil { change(&old.buffer[at]) }
        return found != nil
    }

    /// Removes the matching entry and returns it (nil when absent). In `entries`, later entries
    /// of the probe run shift back, so lookups never need tombstones; in `old` the entry is
    /// marked moved (shifting would carry unmoved entries behind `nextToMove`).
    @inlinable
    public mutating func remove(_ hash: Int, _ matches: (Entry) -> Bool) -> Entry? {
        guard count > 0 else { return nil }
        makeUnique()
        let e = entries.buffer
        var (at, removed) = Self.probe(e, hash, matches)
        if removed != nil {
            Self.shiftBack(from: at, in: e)
        } else if let old {
            (at, removed) = Self.probe(old.buffer, hash, matches)
            if removed != nil { old.buffer[at] = .moved }
        }
        if removed != nil { keyCount -= 1 }
        return removed
    }

    public mutating func removeAll() {
        entries = .none
        old = nil
        next = nil
        nextToMove = 0
        keyCount = 0
    }

    /// Room for `n` keys without growing (at most half full then). All at once: a load that
    /// knows its size sizes the table before the loop serves anyone.
    public mutating func reserveCapacity(_ n: Int) {
        var capacity = Swift.max(16, entries.count)
        while (n + 1) * 2 > capacity { capacity *= 2 }
        guard capacity > entries.count else { return }
        finishMoving()
        next = nil
        let fresh = TableMemory<Entry>(count: capacity)
        let e = entries.buffer
        for i in e.indices where e[i].isKey { Self.place(e[i], in: fresh.buffer) }
        entries = fresh
    }

    /// Doubles the capacity: the full table becomes `old`, moved over by later insertions.
    @inlinable
    mutating func startGrowing() {
        finishMoving()  // never needed at 8 moves per insertion; kept so no key can be lost
        guard count > 0 else {
            entries = TableMemory(count: Swift.max(16, entries.count * 2))
            return
        }
        makeUnique()
        old = entries
        nextToMove = 0
        insertsSinceMove = 0
        // A table another copy of this one shares (a copied RecordTable) is not taken.
        if next?.count == entries.count * 2 && isKnownUniquelyReferenced(&next) {
            entries = next!
        } else {
            entries = TableMemory(count: entries.count * 2)
        }
        next = nil
    }

    /// Makes the next table, then writes one entry of it per page, one page per 8 insertions.
    @inlinable
    mutating func prepareNext() {
        guard count & 7 == 0 else { return }
        if next == nil {
            next = TableMemory(count: entries.count * 2)
            nextTouched = 0
        }
        guard let table = next, nextTouched < table.count else { return }
        table.buffer[nextTouched] = .empty  // already zero: the write maps the page
        nextTouched += Self.entriesPerPage
    }

    @inlinable
    mutating func moveSome() {
        insertsSinceMove += 1
        guard insertsSinceMove == Self.insertsPerBatch, let size = old?.count else { return }
        insertsSinceMove = 0
        move(upTo: Swift.min(nextToMove + Self.moveBatch, size))
    }

    @inlinable
    mutating func finishMoving() {
        if let size = old?.count { move(upTo: size) }
    }

    @inlinable
    mutating func move(upTo end: Int) {
        makeUnique()
        guard let o = old?.buffer else { return }
        let f = entries.buffer
        for i in nextToMove..<end where o[i].isKey {
            Self.place(o[i], in: f)
            o[i] = .moved
        }
        nextToMove = end
        if end == o.count {
            old = nil
            nextToMove = 0
        }
    }

    /// Puts an entry whose key is not in `f` at the end of its probe run.
    @inlinable
    static func place(_ entry: Entry, in f: UnsafeMutableBufferPointer<Entry>) {
        let mask = f.count - 1
        var i = entry.hash & mask
        while !f[i].isEmpty { i = (i + 1) & mask }
        f[i] = entry
    }

    /// Empties entry `i` by backward-shift deletion: each later entry of the probe run that may
    /// move closer to its home moves into the hole, so lookups never need tombstones.
    @inlinable
    static func shiftBack(from i: Int, in e: UnsafeMutableBufferPointer<Entry>) {
        let mask = e.count - 1
        var hole = i
        var j = (i + 1) & mask
        while !e[j].isEmpty {
            let home = e[j].hash & mask
            // e[j] may fill the hole when its home is not in the cyclic range (hole, j].
            let inRange = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j)
            if !inRange {
                e[hole] = e[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        e[hole] = .empty
    }

    /// Copies the tables before a change if another copy of this table shares them (a copied
    /// `RecordTable`); a bucket's own index never does, so this is one check.
    @inlinable @inline(__always)
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&entries) { entries = entries.copy() }
        if old != nil && !isKnownUniquelyReferenced(&old) { old = old!.copy() }
    }
}

/// The memory of one table, zeroed (all entries empty) without writing it: from `calloc`, or
/// for a large table straight from `mmap`, whose pages the kernel zeroes when they are first
/// touched. Filling a new array instead wrote and faulted in all of it at once (64 MB for the
/// doubling at a million keys).
@usableFromInline
final class TableMemory<Entry> {
    @usableFromInline let buffer: UnsafeMutableBufferPointer<Entry>
    @inlinable var count: Int { buffer.count }

    /// The table before the first key: one empty entry, so every probe ends at once; never
    /// written (the first insertion grows first; every change copies a shared table).
    @usableFromInline static var none: TableMemory { TableMemory(count: 1) }

    /// Tables from this size on are mapped: `calloc` may hand back recycled heap memory, which
    /// it zeroes by writing all of it at once.
    private static var mapBytes: Int { 1 << 20 }
    private let mapped: Bool

    @usableFromInline
    init(count: Int) {
        let bytes = count * MemoryLayout<Entry>.stride
        var memory: UnsafeMutableRawPointer?
        if bytes >= Self.mapBytes {
            let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            if p != MAP_FAILED { memory = p }
        }
        mapped = memory != nil
        if memory == nil { memory = calloc(count, MemoryLayout<Entry>.stride) }
        guard let memory else { fatalError("SteppedHashTable: out of memory for \(count) entries") }
        buffer = UnsafeMutableBufferPointer(start: memory.bindMemory(to: Entry.self, capacity: count), count: count)
    }

    @usableFromInline
    func copy() -> TableMemory {
        let t = TableMemory(count: count)
        _ = t.buffer.initialize(from: buffer)
        return t
    }

    deinit {
        if mapped {
            munmap(buffer.baseAddress, buffer.count * MemoryLayout<Entry>.stride)
        } else {
            free(buffer.baseAddress)
        }
    }
}
