/// A set of strings that iterates in insertion order, with O(1) insert, remove and lookup.
///
/// This is the iteration order of a JavaScript `Map`/`Set`, which the original's fact store
/// exposes: an update keeps a key's place, delete-then-insert moves it to the end. Removal
/// leaves a hole that is compacted away once holes outnumber live keys.
struct InsertionOrder {
    private var slots: [String?] = []
    private var position: [String: Int] = [:]
    /// Bumped by every insert or remove that changed the order, so a durable store can tell
    /// cheaply whether the order it saved is still current.
    private(set) var changes = 0

    var count: Int { position.count }
    var isEmpty: Bool { position.isEmpty }

    func contains(_ key: String) -> Bool { position[key] != nil }

    /// Appends `key` unless present; an existing key keeps its position.
    mutating func insert(_ key: String) {
        guard position[key] == nil else { return }
        changes &+= 1
        position[key] = slots.count
        slots.append(key)
    }

    mutating func remove(_ key: String) {
        guard let i = position.removeValue(forKey: key) else { return }
        changes &+= 1
        slots[i] = nil
        if slots.count > 32 && slots.count > 2 * position.count { compact() }
    }

    private mutating func compact() {
        var fresh: [String?] = []
        fresh.reserveCapacity(position.count)
        for case let key? in slots {
            position[key] = fresh.count
            fresh.append(key)
        }
        slots = fresh
    }

    /// The live keys, oldest first.
    var keys: [String] { slots.compactMap { $0 } }

    func forEach(_ body: (String) -> Void) {
        for case let key? in slots { body(key) }
    }
}
