/// A set that iterates in insertion order, with O(1) insert, remove and lookup: the iteration
/// order of a JavaScript `Set` (or a `Map`'s keys), which the original exposes in several
/// places (the rule engine's facts and rules, a non-unique index's keys per value). An existing
/// key keeps its place; delete-then-insert moves it to the end.
///
/// The keys sit in an array, found (above a few keys) through a `SteppedHashTable` (which
/// doubles in steps), so no insertion re-hashes the others (a `Dictionary` of positions did, in one insertion: ~0.25 s at
/// 786,432 keys); the array's own growth copies its bytes, a memory copy. A removal leaves a
/// hole; once holes outnumber live keys the keys close up (amortized O(1) per removal, and a
/// removal never searches or copies the others).
public struct InsertionOrderedSet<Key: Hashable> {
    @usableFromInline var slots: [Key?] = []
    /// The keys' table, made once the set holds more than `scanLimit` keys: a smaller set (a
    /// value of most indexes holds a few keys) is searched by scanning `slots`, and carries no
    /// table (~300 bytes even when nearly empty). Boxed, so a set is three words.
    @usableFromInline var box: TableBox?
    @usableFromInline var live = 0
    @usableFromInline var changeCount = 0
    @inlinable static var scanLimit: Int { 8 }

    @usableFromInline
    final class TableBox {
        @usableFromInline var table: SteppedHashTable<HashSlot>
        @usableFromInline init(_ table: SteppedHashTable<HashSlot>) { self.table = table }
    }

    @inlinable public init() {}

    /// Bumped by every insert or remove that changed the order, so a durable store can tell
    /// cheaply whether the order it saved is still current.
    @inlinable public var changes: Int { changeCount }
    @inlinable public var count: Int { live }
    @inlinable public var isEmpty: Bool { live == 0 }

    @inlinable
    public func contains(_ key: Key) -> Bool {
        guard let box else { return slots.contains(key) }
        return box.table.find(key.hashValue) { slots[$0.slot]! == key } != nil
    }

    /// Appends `key` unless present; an existing key keeps its place.
    @inlinable
    public mutating func insert(_ key: Key) {
        if box != nil {
            uniqueBox()
            guard Self.insert(&box!.table, slots, key, slot: slots.count) else { return }
        } else if slots.contains(key) {
            return
        }
        changeCount &+= 1
        slots.append(key)
        live += 1
        if box == nil && live > Self.scanLimit { makeTable() }
    }

    @inlinable
    public mutating func remove(_ key: Key) {
        let found: Int?
        if box != nil {
            uniqueBox()
            found = Self.remove(&box!.table, slots, key)
        } else {
            found = slots.firstIndex(of: key)
        }
        guard let i = found else { return }
        changeCount &+= 1
        slots[i] = nil
        live -= 1
        if slots.count > 32 && slots.count > 2 * live { closeHoles() }
    }

    @inlinable
    mutating func makeTable() {
        var table = SteppedHashTable<HashSlot>()
        for (i, slot) in slots.enumerated() {
            guard let key = slot else { continue }
            let hash = key.hashValue
            _ = table.findOrInsert(hash, HashSlot(hash: hash, slot: i)) { _ in false }
        }
        box = TableBox(table)
    }

    /// Copies the table's box before a change when another copy of this set shares it (the
    /// table's memory is copied on write by the table itself).
    @inlinable
    mutating func uniqueBox() {
        if !isKnownUniquelyReferenced(&box!) { box = TableBox(box!.table) }
    }

    @inlinable
    mutating func closeHoles() {
        var fresh: [Key?] = []
        fresh.reserveCapacity(live)
        var newNumber = [Int](repeating: -1, count: slots.count)
        for (i, slot) in slots.enumerated() {
            guard let key = slot else { continue }
            newNumber[i] = fresh.count
            fresh.append(key)
        }
        slots = fresh
        guard box != nil else { return }
        uniqueBox()
        box!.table.updateEach { $0 = HashSlot(hash: $0.hash, slot: newNumber[$0.slot]) }
    }

    /// The keys, oldest first.
    @inlinable
    public var keys: [Key] {
        var out: [Key] = []
        out.reserveCapacity(live)
        for case let key? in slots { out.append(key) }
        return out
    }

    @inlinable
    public func forEach(_ body: (Key) -> Void) {
        for case let key? in slots { body(key) }
    }

    // The table is changed while the slots are read (to compare keys): as two arguments these
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
