/// A set that iterates in insertion order, with O(1) insert, remove and lookup: the iteration
/// order of a JavaScript `Set` (or a `Map`'s keys), which the original exposes in several
/// places (the rule engine's facts and rules, a non-unique index's keys per value). An existing
/// key keeps its place; delete-then-insert moves it to the end.
///
/// A set of at most `scanLimit` keys keeps them in an array and is searched by scanning it.
/// A larger one keeps them in `OrderedSlots` (chunks, so growing never copies them; holes
/// closed a few per change), found through a `SlotIndex` (doubling in steps), so no
/// insertion or removal moves all the keys at once. A `Dictionary` of positions re-hashed
/// every key in one insertion (~0.25 s at 786,432 keys); one array of keys copied all of them
/// when it doubled (3.5 ms at 262,144) and when it closed its holes (7.3 ms at 131,072 keys:
/// `store-bench` `insert_1m_indexed_slowest`, `delete_1m_indexed_oldest_slowest`).
public struct InsertionOrderedSet<Key: Hashable> {
    /// The keys while the set is small (no `box`), holes included.
    @usableFromInline var slots: [Key?] = []
    /// The keys and their table, made once the set holds more than `scanLimit` keys: a smaller
    /// set (a value of most indexes holds a few keys) carries neither (~300 bytes even when
    /// nearly empty). Boxed, so a set is four words.
    @usableFromInline var box: TableBox?
    @usableFromInline var live = 0
    @usableFromInline var changeCount = 0
    @inlinable static var scanLimit: Int { 8 }

    @usableFromInline
    final class TableBox {
        @usableFromInline var table: SlotIndex
        @usableFromInline var keys: OrderedSlots<Key>
        @usableFromInline init(_ table: SlotIndex, _ keys: OrderedSlots<Key>) {
            self.table = table
            self.keys = keys
        }
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
        return box.table.find(key.hashValue) { box.keys[slot: $0]! == key } != nil
    }

    /// Appends `key` unless present; an existing key keeps its place.
    @inlinable
    public mutating func insert(_ key: Key) {
        if box != nil {
            uniqueBox()
            let b = box!
            guard Self.insert(&b.table, b.keys, key, slot: b.keys.nextNumber) else { return }
            b.keys.append(key)
            b.keys.compactStep(index: &b.table) { $0.hashValue }
        } else {
            if slots.contains(key) { return }
            slots.append(key)
        }
        changeCount &+= 1
        live += 1
        if box == nil && live > Self.scanLimit { makeTable() }
    }

    @inlinable
    public mutating func remove(_ key: Key) {
        if box != nil {
            uniqueBox()
            let b = box!
            guard let i = Self.remove(&b.table, b.keys, key) else { return }
            live -= 1
            changeCount &+= 1
            b.keys.remove(i, index: &b.table) { $0.hashValue }
        } else {
            guard let i = slots.firstIndex(of: key) else { return }
            slots[i] = nil
            live -= 1
            changeCount &+= 1
            if slots.count > 32 && slots.count > 2 * live { closeHoles() }
        }
    }

    /// Closes every hole now (tests, and a small set's removal; a large set's changes close
    /// them in steps).
    @inlinable
    mutating func closeHoles() {
        guard box != nil else {
            slots = slots.filter { $0 != nil }
            return
        }
        uniqueBox()
        let b = box!
        b.keys.closeAllHoles(index: &b.table) { $0.hashValue }
    }

    /// Moves the keys of a set that outgrew scanning into `OrderedSlots` and a table.
    @inlinable
    mutating func makeTable() {
        var table = SlotIndex()
        var keys = OrderedSlots<Key>()
        for case let key? in slots {
            _ = table.findOrInsert(key.hashValue, slot: keys.nextNumber) { _ in false }
            keys.append(key)
        }
        slots = []
        box = TableBox(table, keys)
    }

    /// Copies the box before a change when another copy of this set shares it (the table's
    /// memory and the slots are copied on write by themselves).
    @inlinable
    mutating func uniqueBox() {
        if !isKnownUniquelyReferenced(&box!) { box = TableBox(box!.table, box!.keys) }
    }

    /// The keys, oldest first.
    @inlinable
    public var keys: [Key] {
        var out: [Key] = []
        out.reserveCapacity(live)
        forEach { out.append($0) }
        return out
    }

    @inlinable
    public func forEach(_ body: (Key) -> Void) {
        if let box {
            for case let key? in box.keys { body(key) }
        } else {
            for case let key? in slots { body(key) }
        }
    }

    // The table is changed while the keys are read (to compare them): as two arguments these
    // are disjoint accesses, and `keys` is borrowed, so no copy of it outlives the call (one
    // kept alive would make the next append copy a chunk). True when `key` was added.
    @inlinable
    static func insert(_ index: inout SlotIndex, _ keys: OrderedSlots<Key>, _ key: Key, slot: Int) -> Bool {
        index.findOrInsert(key.hashValue, slot: slot) { keys[slot: $0]! == key } == nil
    }

    @inlinable
    static func remove(_ index: inout SlotIndex, _ keys: OrderedSlots<Key>, _ key: Key) -> Int? {
        index.remove(key.hashValue) { keys[slot: $0]! == key }
    }
}
