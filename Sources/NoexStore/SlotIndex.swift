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
    private struct Entry {
        var hash: Int
        /// -1: empty.
        var slot: Int
    }

    private var entries: ContiguousArray<Entry> = []
    private(set) var count = 0

    static func hash(_ key: JSON) -> Int { key.hashValue }

    /// The slot of the key with `hash` for which `matches` is true, or nil.
    @inline(__always)
    func find(_ hash: Int, _ matches: (Int) -> Bool) -> Int? {
        guard count > 0 else { return nil }
        return entries.withUnsafeBufferPointer { e in
            let mask = e.count - 1
            var i = hash & mask
            while e[i].slot >= 0 {
                if e[i].hash == hash && matches(e[i].slot) { return e[i].slot }
                i = (i + 1) & mask
            }
            return nil
        }
    }

    /// The slot of the matching key if there is one (nothing changes); otherwise records the
    /// key under `newSlot` and returns nil.
    @inline(__always)
    mutating func findOrInsert(_ hash: Int, slot newSlot: Int, _ matches: (Int) -> Bool) -> Int? {
        if (count + 1) * 2 > entries.count { grow() }
        let found: Int? = entries.withUnsafeMutableBufferPointer { e in
            let mask = e.count - 1
            var i = hash & mask
            while e[i].slot >= 0 {
                if e[i].hash == hash && matches(e[i].slot) { return e[i].slot }
                i = (i + 1) & mask
            }
            e[i] = Entry(hash: hash, slot: newSlot)
            return nil
        }
        if found == nil { count += 1 }
        return found
    }

    /// Removes the matching key's entry and returns its slot (nil when absent). Later entries
    /// of the probe run shift back, so lookups never need tombstones.
    mutating func remove(_ hash: Int, _ matches: (Int) -> Bool) -> Int? {
        guard count > 0 else { return nil }
        let removed: Int? = entries.withUnsafeMutableBufferPointer { e in
            let mask = e.count - 1
            var i = hash & mask
            while e[i].slot >= 0 {
                if e[i].hash == hash && matches(e[i].slot) { break }
                i = (i + 1) & mask
            }
            guard e[i].slot >= 0 else { return nil }
            let slot = e[i].slot
            LinearProbing.remove(at: i, in: e, empty: Entry(hash: 0, slot: -1), isEmpty: { $0.slot < 0 }, hash: { $0.hash })
            return slot
        }
        if removed != nil { count -= 1 }
        return removed
    }

    /// Moves every entry to its slot's new number (the table was compacted).
    mutating func renumber(_ newSlot: (Int) -> Int) {
        entries.withUnsafeMutableBufferPointer { e in
            for i in e.indices where e[i].slot >= 0 { e[i].slot = newSlot(e[i].slot) }
        }
    }

    mutating func removeAll() {
        entries = []
        count = 0
    }

    /// Room for `n` keys without growing (at most half full then).
    mutating func reserveCapacity(_ n: Int) {
        var capacity = Swift.max(16, entries.count)
        while (n + 1) * 2 > capacity { capacity *= 2 }
        if capacity > entries.count { grow(to: capacity) }
    }

    /// Doubles the capacity (at most half full after), re-placing entries by their stored hashes.
    private mutating func grow() { grow(to: Swift.max(16, entries.count * 2)) }

    private mutating func grow(to capacity: Int) {
        var fresh = ContiguousArray(repeating: Entry(hash: 0, slot: -1), count: capacity)
        let mask = capacity - 1
        fresh.withUnsafeMutableBufferPointer { f in
            for old in entries where old.slot >= 0 {
                var i = old.hash & mask
                while f[i].slot >= 0 { i = (i + 1) & mask }
                f[i] = old
            }
        }
        entries = fresh
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
