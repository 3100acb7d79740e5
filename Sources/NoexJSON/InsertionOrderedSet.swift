/// A set that iterates in insertion order, with O(1) insert, remove and lookup: the iteration
/// order of a JavaScript `Set` (or a `Map`'s keys), which the original exposes in several
/// places (the rule engine's facts and rules, a non-unique index's keys per value). An existing
/// key keeps its place; delete-then-insert moves it to the end.
///
/// The keys sit in an array, found through a `SteppedHashTable` (which doubles in steps), so no
/// insertion re-hashes the others (a `Dictionary` of positions did, in one insertion: ~0.25 s at
/// 786,432 keys); the array's own growth copies its bytes, a memory copy. A removal leaves a
/// hole; once holes outnumber live keys the keys close up (amortized O(1) per removal, and a
/// removal never searches or copies the others).
public struct InsertionOrderedSet<Key: Hashable> {
    @usableFromInline var slots: [Key?] = []
    @usableFromInline var index = SteppedHashTable<HashSlot>()
    @usableFromInline var changeCount = 0

    @inlinable public init() {}

    /// Bumped by every insert or remove that changed the order, so a durable store can tell
    /// cheaply whether the order it saved is still current.
    @inlinable public var changes: Int { changeCount }
    @inlinable public var count: Int { index.count }
    @inlinable public var isEmpty: Bool { index.count == 0 }

    @inlinable
    public func contains(_ key: Key) -> Bool {
        index.find(key.hashValue) { slots[$0.slot]! == key } != nil
    }

    /// Appends `key` unless present; an existing key keeps its place.
    @inlinable
    public mutating func insert(_ key: Key) {
        guard Self.insert(&index, slots, key, slot: slots.count) else { return }
        changeCount &+= 1
        slots.append(key)
    }

    @inlinable
    public mutating func remove(_ key: Key) {
        guard let i = Self.remove(&index, slots, key) else { return }
        changeCount &+= 1
        slots[i] = nil
        if slots.count > 32 && slots.count > 2 * index.count { closeHoles() }
    }

    @inlinable
    mutating func closeHoles() {
        var fresh: [Key?] = []
        fresh.reserveCapacity(index.count)
        var newNumber = [Int](repeating: -1, count: slots.count)
        for (i, slot) in slots.enumerated() {
            guard let key = slot else { continue }
            newNumber[i] = fresh.count
            fresh.append(key)
        }
        slots = fresh
        index.updateEach { $0 = HashSlot(hash: $0.hash, slot: newNumber[$0.slot]) }
    }

    /// The keys, oldest first.
    @inlinable
    public var keys: [Key] {
        var out: [Key] = []
        out.reserveCapacity(index.count)
        for case let key? in slots { out.append(key) }
        return out
    }

    @inlinable
    public func forEach(_ body: (Key) -> Void) {
        for case let key? in slots { body(key) }
    }

    // The index is changed while the slots are read (to compare keys): as two arguments these
    // are disjoint accesses, and `slots` is borrowed, so no copy of it outlives the call (one
    // kept alive would make the next append copy the array). True when `key` was added.
    @inlinable
    static func insert(_ index: inout SteppedHashTable<HashSlot>, _ slots: [Key?], _ key: Key, slot: Int) -> Bool {
        let hash = key.hashValue
        return index.findOrInsert(hash, HashSlot(hash: hash, slot: slot)) { slots[$0.slot]! == key } == nil
    }

    @inlinable
    static func remove(_ index: inout SteppedHashTable<HashSlot>, _ slots: [Key?], _ key: Key) -> Int? {
        index.remove(key.hashValue) { slots[$0.slot]! == key }?.slot
    }
}
