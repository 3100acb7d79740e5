/// The key → slot map of a bucket's `RecordTable`, of the store's `SteppedDictionary` and of a
/// large `InsertionOrderedSet`: a `SteppedHashTable` (open addressing with linear probing,
/// doubling in steps), each entry holding its key's full hash beside the slot number.
///
/// Why not `[JSON: Int]`: Swift's `Dictionary` keeps no hashes, so every occupied bucket a
/// probe passes is a full `JSON ==` (for string keys a runtime string comparison), and it
/// cannot reuse a hash between `contains` and the insertion that follows. Here a probe compares
/// stored hashes and calls back for the key only when a hash is equal, and `findOrInsert` does
/// the existence check and the insertion with one hash (bench/README.md, issue 13, third
/// round). The hash is still Swift's per-process seeded `Hasher`, so chosen keys cannot force
/// collisions. The keys themselves live in the table's slots; `matches(slot)` compares one.
public struct SlotIndex {
    @usableFromInline var table = SteppedHashTable<HashSlot>()

    @inlinable public init() {}

    @inlinable public var count: Int { table.count }

    @inlinable public static func hash(_ key: JSON) -> Int { key.hashValue }

    /// The slot of the key with `hash` for which `matches` is true, or nil.
    @inlinable @inline(__always)
    public func find(_ hash: Int, _ matches: (Int) -> Bool) -> Int? {
        table.find(hash) { matches($0.slot) }?.slot
    }

    /// The slot of the matching key if there is one (nothing changes); otherwise records the
    /// key under `newSlot` and returns nil.
    @inlinable @inline(__always)
    public mutating func findOrInsert(_ hash: Int, slot newSlot: Int, _ matches: (Int) -> Bool) -> Int? {
        table.findOrInsert(hash, HashSlot(hash: hash, slot: newSlot)) { matches($0.slot) }?.slot
    }

    /// Removes the matching key's entry and returns its slot (nil when absent).
    @inlinable
    public mutating func remove(_ hash: Int, _ matches: (Int) -> Bool) -> Int? {
        table.remove(hash) { matches($0.slot) }?.slot
    }

    /// Moves the entry of the key with `hash` in slot `old` to slot `new` (its slot moved).
    @inlinable
    public mutating func renumber(_ hash: Int, from old: Int, to new: Int) {
        let found = table.modify(hash, { $0.slot == old }) { $0 = HashSlot(hash: hash, slot: new) }
        assert(found, "SlotIndex.renumber: no entry for the slot")
    }

    @inlinable public mutating func removeAll() { table.removeAll() }

    /// Room for `n` keys without growing (at most half full then).
    @inlinable public mutating func reserveCapacity(_ n: Int) { table.reserveCapacity(n) }
}
