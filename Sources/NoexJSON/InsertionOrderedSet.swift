/// A set that iterates in insertion order, with O(1) insert, remove and lookup: the iteration
/// order of a JavaScript `Set` (or a `Map`'s keys), which the original exposes in several
/// places (the rule engine's facts and rules, a non-unique index's keys per value). An existing
/// key keeps its place; delete-then-insert moves it to the end.
///
/// A removal leaves a hole in `slots`; once holes outnumber live keys the keys close up
/// (amortized O(1) per removal, and a removal never copies or searches the others).
public struct InsertionOrderedSet<Key: Hashable> {
    @usableFromInline var slots: [Key?] = []
    /// Each key's place in `slots`.
    @usableFromInline var position: [Key: Int] = [:]
    /// Bumped by every insert or remove that changed the order, so a durable store can tell
    /// cheaply whether the order it saved is still current.
    @usableFromInline var changeCount = 0
    @inlinable public var changes: Int { changeCount }

    @inlinable public init() {}

    @inlinable public var count: Int { position.count }
    @inlinable public var isEmpty: Bool { position.isEmpty }

    @inlinable public func contains(_ key: Key) -> Bool { position[key] != nil }

    /// Appends `key` unless present; an existing key keeps its place.
    @inlinable
    public mutating func insert(_ key: Key) {
        guard position[key] == nil else { return }
        changeCount &+= 1
        position[key] = slots.count
        slots.append(key)
    }

    @inlinable
    public mutating func remove(_ key: Key) {
        guard let i = position.removeValue(forKey: key) else { return }
        changeCount &+= 1
        slots[i] = nil
        if slots.count > 32 && slots.count > 2 * position.count { closeHoles() }
    }

    @inlinable
    mutating func closeHoles() {
        var fresh: [Key?] = []
        fresh.reserveCapacity(position.count)
        for case let key? in slots {
            position[key] = fresh.count
            fresh.append(key)
        }
        slots = fresh
    }

    /// The keys, oldest first.
    @inlinable
    public var keys: [Key] {
        var out: [Key] = []
        out.reserveCapacity(position.count)
        for case let key? in slots { out.append(key) }
        return out
    }

    @inlinable
    public func forEach(_ body: (Key) -> Void) {
        for case let key? in slots { body(key) }
    }
}
