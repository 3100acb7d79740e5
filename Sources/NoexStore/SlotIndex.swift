#if canImport(Glibc)
import Glibc
#endif
import NoexJSON

/// The key → slot map of a `RecordTable`: open addressing with linear probing, each entry
/// holding its key's full hash beside the slot number.
///
/// Why not `[JSON: Int]`: Swift's `Dictionary` keeps no hashes, so every occupied bucket a
/// probe passes is a full `JSON ==` (for string keys a runtime string comparison), and it
/// cannot reuse a hash between `contains` and the insertion that follows. Here a probe compares
/// stored hashes and calls back for the key only when a hash is equal, and `findOrInsert` does
/// the existence check and the insertion with one hash (bench/README.md, issue 13, third
/// round). The hash is still Swift's per-process seeded `Hasher`, so chosen keys cannot force
/// collisions. The keys themselves live in the table's slots; `matches(slot)` compares one.
struct SlotIndex {
    fileprivate struct Entry {
        var hash: Int
        /// 0: empty (so zeroed memory is an empty table); `moved`; or the slot number plus one.
        var tag: Int
        @inline(__always) var slot: Int { tag - 1 }
        @inline(__always) var isKey: Bool { tag > 0 }
    }
    private static let empty = 0
    /// In `old` only: the entry was moved to `entries` (or removed) while growing. A probe
    /// passes it (unlike an empty entry), so the entries after it in its run stay reachable.
    private static let moved = -1

    private var entries = EntryTable.none
    /// While growing: the table before, holding the keys not moved to `entries` yet. Growing
    /// moves `moveBatch` of its positions every `insertsPerBatch` insertions instead of all of
    /// them at once: re-placing a million keys in one go stalled the loop for ~100 ms
    /// (bench/README.md, "A table that grows without stalling").
    private var old: EntryTable?
    /// Positions of `old` before this one are moved.
    private var nextToMove = 0
    /// Insertions since the last batch of moves.
    private var insertsSinceMove = 0
    /// The table doubles when half full, so the new one must be done before it is half full
    /// too: after a quarter of its size in insertions. 256 positions per 32 insertions are done
    /// after an eighth. The work is spread thin on purpose: every move is a cache miss, and
    /// packed into fewer insertions (4,096 positions per 32) it doubled the p99 latency of an
    /// insert load.
    private static let moveBatch = 256, insertsPerBatch = 32
    /// The table the next growth moves to, made once the index is 3/8 full and written one
    /// page per 8 insertions until all of it is in memory (done at 7/16 full). A new table
    /// first touched by the moves and inserts took a page fault on nearly every write after
    /// growing (two: a probe's read maps the zero page, the write copies it), and a page per
    /// insertion slowed those by ~75% (a fault costs ~3 µs here): both doubled the p99 latency.
    private var next: EntryTable?
    /// Entries of `next` from here on have not been written yet.
    private var nextTouched = 0
    private static let entriesPerPage = 4096 / MemoryLayout<Entry>.stride
    private(set) var count = 0

    private var growing: Bool { old != nil }

    static func hash(_ key: JSON) -> Int { key.hashValue }

    /// The slot of the key with `hash` for which `matches` is true, or nil.
    @inline(__always)
    func find(_ hash: Int, _ matches: (Int) -> Bool) -> Int? {
        guard count > 0 else { return nil }
        if let found = Self.probe(entries.buffer, hash, matches).slot { return found }
        guard let old else { return nil }
        return Self.probe(old.buffer, hash, matches).slot
    }

    /// Where the probe for `hash` ends: the matching entry's position and slot, or the empty
    /// position that ends its run (slot nil). Passes `moved` entries.
    @inline(__always)
    private static func probe(_ e: UnsafeMutableBufferPointer<Entry>, _ hash: Int, _ matches: (Int) -> Bool) -> (at: Int, slot: Int?) {
        let mask = e.count - 1
        var i = hash & mask
        while e[i].tag != empty {
            if e[i].hash == hash && e[i].isKey && matches(e[i].slot) { return (i, e[i].slot) }
            i = (i + 1) & mask
        }
        return (i, nil)
    }

    /// The slot of the matching key if there is one (nothing changes); otherwise records the
    /// key under `newSlot` and returns nil.
    @inline(__always)
    mutating func findOrInsert(_ hash: Int, slot newSlot: Int, _ matches: (Int) -> Bool) -> Int? {
        if growing {
            moveSome()
        } else if count * 8 >= entries.count * 3 {
            prepareNext()
        }
        if (count + 1) * 2 > entries.count { startGrowing() }
        let (at, found) = Self.probe(entries.buffer, hash, matches)
        if let found { return found }
        if let old, let found = Self.probe(old.buffer, hash, matches).slot { return found }
        makeUnique()
        entries.buffer[at] = Entry(hash: hash, tag: newSlot + 1)
        count += 1
        return nil
    }

    /// Removes the matching key's entry and returns its slot (nil when absent). In `entries`,
    /// later entries of the probe run shift back, so lookups never need tombstones; in `old`
    /// the entry is marked moved (shifting would carry unmoved entries behind `nextToMove`).
    mutating func remove(_ hash: Int, _ matches: (Int) -> Bool) -> Int? {
        guard count > 0 else { return nil }
        makeUnique()
        let e = entries.buffer
        var (at, removed) = Self.probe(e, hash, matches)
        if removed != nil {
            LinearProbing.remove(at: at, in: e, empty: Entry(hash: 0, tag: Self.empty), isEmpty: { $0.tag == Self.empty },
                                 hash: { $0.hash })
        } else if let old {
            (at, removed) = Self.probe(old.buffer, hash, matches)
            if removed != nil { old.buffer[at].tag = Self.moved }
        }
        if removed != nil { count -= 1 }
        return removed
    }

    /// Moves every entry to its slot's new number (the table was compacted).
    mutating func renumber(_ newSlot: (Int) -> Int) {
        makeUnique()
        for e in [entries.buffer, old?.buffer].compactMap({ $0 }) {
            for i in e.indices where e[i].isKey { e[i].tag = newSlot(e[i].slot) + 1 }
        }
    }

    mutating func removeAll() {
        entries = .none
        old = nil
        next = nil
        nextToMove = 0
        count = 0
    }

    /// Room for `n` keys without growing (at most half full then). All at once: a load that
    /// knows its size sizes the table before the loop serves anyone.
    mutating func reserveCapacity(_ n: Int) {
        var capacity = Swift.max(16, entries.count)
        while (n + 1) * 2 > capacity { capacity *= 2 }
        guard capacity > entries.count else { return }
        finishMoving()
        next = nil
        let fresh = EntryTable(count: capacity)
        let e = entries.buffer
        for i in e.indices where e[i].isKey { Self.place(e[i], in: fresh.buffer) }
        entries = fresh
    }

    /// Doubles the capacity: the full table becomes `old`, moved over by later insertions.
    private mutating func startGrowing() {
        finishMoving()  // never needed at 8 moves per insertion; kept so no key can be lost
        guard count > 0 else {
            entries = EntryTable(count: Swift.max(16, entries.count * 2))
            return
        }
        makeUnique()
        old = entries
        nextToMove = 0
        insertsSinceMove = 0
        // A table another copy of this index shares (a copied RecordTable) is not taken.
        if next?.count == entries.count * 2 && isKnownUniquelyReferenced(&next) {
            entries = next!
        } else {
            entries = EntryTable(count: entries.count * 2)
        }
        next = nil
    }

    /// Makes the next table, then writes one entry of it per page, one page per 8 insertions.
    private mutating func prepareNext() {
        guard count & 7 == 0 else { return }
        if next == nil {
            next = EntryTable(count: entries.count * 2)
            nextTouched = 0
        }
        guard let table = next, nextTouched < table.count else { return }
        table.buffer[nextTouched].tag = Self.empty  // already zero: the write maps the page
        nextTouched += Self.entriesPerPage
    }

    private mutating func moveSome() {
        insertsSinceMove += 1
        guard insertsSinceMove == Self.insertsPerBatch, let size = old?.count else { return }
        insertsSinceMove = 0
        move(upTo: Swift.min(nextToMove + Self.moveBatch, size))
    }

    private mutating func finishMoving() {
        if let size = old?.count { move(upTo: size) }
    }

    private mutating func move(upTo end: Int) {
        makeUnique()
        guard let o = old?.buffer else { return }
        let f = entries.buffer
        for i in nextToMove..<end where o[i].isKey {
            Self.place(o[i], in: f)
            o[i].tag = Self.moved
        }
        nextToMove = end
        if end == o.count {
            old = nil
            nextToMove = 0
        }
    }

    /// Puts an entry whose key is not in `f` at the end of its probe run.
    @inline(__always)
    private static func place(_ entry: Entry, in f: UnsafeMutableBufferPointer<Entry>) {
        let mask = f.count - 1
        var i = entry.hash & mask
        while f[i].tag != empty { i = (i + 1) & mask }
        f[i] = entry
    }

    /// Copies the tables before a change if another `SlotIndex` shares them (a copied
    /// `RecordTable`); a bucket's own index never does, so this is one check.
    @inline(__always)
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&entries) { entries = entries.copy() }
        if old != nil && !isKnownUniquelyReferenced(&old) { old = old!.copy() }
    }
}

/// The memory of one `SlotIndex` table, zeroed (all entries empty) without writing it: from
/// `calloc`, or for a large table straight from `mmap`, whose pages the kernel zeroes when they
/// are first touched. Filling a new array instead wrote and faulted in all of it at once (64 MB
/// for the doubling at a million keys).
private final class EntryTable {
    let buffer: UnsafeMutableBufferPointer<SlotIndex.Entry>
    var count: Int { buffer.count }

    /// The table before the first key: one empty entry, so every probe ends at once; shared,
    /// and never written (the first insertion grows first; every change copies a shared table).
    nonisolated(unsafe) static let none = EntryTable(count: 1)

    /// Tables from this size on are mapped: `calloc` may hand back recycled heap memory, which
    /// it zeroes by writing all of it at once.
    private static let mapBytes = 1 << 20
    private let mapped: Bool

    init(count: Int) {
        let bytes = count * MemoryLayout<SlotIndex.Entry>.stride
        var memory: UnsafeMutableRawPointer?
        if bytes >= Self.mapBytes {
            let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            if p != MAP_FAILED { memory = p }
        }
        mapped = memory != nil
        if memory == nil { memory = calloc(count, MemoryLayout<SlotIndex.Entry>.stride) }
        guard let memory else { fatalError("SlotIndex: out of memory for \(count) entries") }
        buffer = UnsafeMutableBufferPointer(start: memory.bindMemory(to: SlotIndex.Entry.self, capacity: count), count: count)
    }

    func copy() -> EntryTable {
        let t = EntryTable(count: count)
        _ = t.buffer.initialize(from: buffer)
        return t
    }

    deinit {
        if mapped {
            munmap(buffer.baseAddress, buffer.count * MemoryLayout<SlotIndex.Entry>.stride)
        } else {
            free(buffer.baseAddress)
        }
    }
}

/// What open-addressing tables with linear probing share (`SlotIndex` here, the sqlite
/// engine's `RecordRowMap`).
public enum LinearProbing {
    /// Empties entry `i` of a table with a power-of-two size by backward-shift deletion: each
    /// later entry of the probe run that may move closer to its home moves into the hole, so
    /// lookups never need tombstones.
    @inlinable
    public static func remove<Entry>(at i: Int, in e: UnsafeMutableBufferPointer<Entry>, empty: Entry,
                                     isEmpty: (Entry) -> Bool, hash: (Entry) -> Int) {
        let mask = e.count - 1
        var hole = i
        var j = (i + 1) & mask
        while !isEmpty(e[j]) {
            let home = hash(e[j]) & mask
            // e[j] may fill the hole when its home is not in the cyclic range (hole, j].
            let inRange = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j)
            if !inRange {
                e[hole] = e[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        e[hole] = empty
    }
}
