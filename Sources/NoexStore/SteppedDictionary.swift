import NoexJSON

/// A hash map that grows without stopping: its entries in `SlotChunks` (never copied as it
/// grows), found through a `SlotIndex` of hash → entry number, which doubles in steps.
/// A removed entry's number is taken by the next insertion. Under a bucket's secondary indexes:
/// Swift's `Dictionary` re-placed all of its entries in the insertion that made it grow, 264 ms
/// at 786,432 values of a unique index (bench/README.md, "Secondary indexes grow in steps").
///
/// The hash is the key's `hashValue` (Swift's per-process seeded `Hasher`), so chosen keys
/// cannot force collisions.
struct SteppedDictionary<Key: Hashable, Value> {
    typealias Element = (key: Key, value: Value)
    private var entries = SlotChunks<Element>()
    /// Numbers of removed entries, taken before `entries` grows.
    private var free: [Int] = []
    private var index = SlotIndex()

    var count: Int { index.count }
    var isEmpty: Bool { index.count == 0 }

    private func slot(of key: Key) -> Int? {
        index.find(key.hashValue) { entries[$0]!.key == key }
    }

    subscript(key: Key) -> Value? {
        guard let i = slot(of: key) else { return nil }
        return entries[i]!.value
    }

    /// Sets `key`'s value; returns the value it replaced, if any.
    @discardableResult
    mutating func updateValue(_ value: Value, forKey key: Key) -> Value? {
        let i = Self.findOrInsert(&index, entries, key, slot: free.last ?? entries.count)
        guard i.existed else {
            place((key, value), at: i.slot)
            return nil
        }
        let old = entries[i.slot]!.value
        entries[i.slot]!.value = value
        return old
    }

    /// Changes `key`'s value in place, after storing `defaultValue()` for it when it has none.
    mutating func modify<R>(_ key: Key, default defaultValue: () -> Value, _ change: (inout Value) -> R) -> R {
        let i = Self.findOrInsert(&index, entries, key, slot: free.last ?? entries.count)
        if !i.existed { place((key, defaultValue()), at: i.slot) }
        return change(&entries[i.slot]!.value)
    }

    /// Changes `key`'s value in place and removes the key when `change` returns true; nil when
    /// the key has no value.
    @discardableResult
    mutating func modifyOrRemove(_ key: Key, _ change: (inout Value) -> Bool) -> Bool? {
        guard let i = slot(of: key) else { return nil }
        let remove = change(&entries[i]!.value)
        if remove { removeValue(forKey: key) }
        return remove
    }

    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        guard let i = Self.remove(&index, entries, key) else { return nil }
        let old = entries[i]!.value
        entries[i] = nil
        free.append(i)
        return old
    }

    mutating func removeAll() { self = SteppedDictionary() }

    private mutating func place(_ element: Element, at slot: Int) {
        if slot == entries.count {
            entries.append(element)
        } else {
            free.removeLast()
            entries[slot] = element
        }
    }

    // The index is changed while the entries are read (to compare keys): as two arguments these
    // are disjoint accesses, and `entries` is borrowed, so no copy of its storage outlives the
    // call (one kept alive would make the next write copy a chunk).
    private static func findOrInsert(_ index: inout SlotIndex, _ entries: SlotChunks<Element>, _ key: Key,
                                     slot: Int) -> (slot: Int, existed: Bool) {
        if let found = index.findOrInsert(key.hashValue, slot: slot, { entries[$0]!.key == key }) { return (found, true) }
        return (slot, false)
    }

    private static func remove(_ index: inout SlotIndex, _ entries: SlotChunks<Element>, _ key: Key) -> Int? {
        index.remove(key.hashValue) { entries[$0]!.key == key }
    }
}
