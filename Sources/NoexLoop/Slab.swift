// Generation-checked slots: an id names one occupant of one slot, so a late callback for a
// connection that is gone finds a stale generation instead of someone else's connection.

/// Identifies a connection (or loop timer) for as long as it lives. Packs into a non-zero
/// pointer-sized integer for libuv's `handle.data`.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    public let index: UInt32
    public let generation: UInt32

    public init(index: UInt32, generation: UInt32) {
        self.index = index
        self.generation = generation
    }

    /// Never 0, so it can be told apart from a null `data` pointer.
    public var bitPattern: UInt { (UInt(generation) << 32 | UInt(index)) &+ 1 }

    public init?(bitPattern raw: UInt) {
        guard raw != 0 else { return nil }
        let v = raw &- 1
        self.init(index: UInt32(truncatingIfNeeded: v), generation: UInt32(truncatingIfNeeded: v >> 32))
    }

    public var description: String { "\(index).\(generation)" }
}

/// A vector of optional slots with a free list; each reuse bumps the slot's generation.
struct Slab<Element> {
    private var values: [Element?] = []
    private var generations: [UInt32] = []
    private var freeList: [UInt32] = []
    private(set) var count = 0

    /// Stores `value` in a free slot and returns its id.
    mutating func insert(_ value: Element) -> ConnectionID {
        count += 1
        if let i = freeList.popLast() {
            values[Int(i)] = value
            return ConnectionID(index: i, generation: generations[Int(i)])
        }
        values.append(value)
        generations.append(0)
        return ConnectionID(index: UInt32(values.count - 1), generation: 0)
    }

    /// Removes and returns the occupant of `id`, or nil when `id` is stale.
    @discardableResult
    mutating func remove(_ id: ConnectionID) -> Element? {
        guard contains(id) else { return nil }
        let i = Int(id.index)
        let value = values[i]
        values[i] = nil
        generations[i] &+= 1
        freeList.append(id.index)
        count -= 1
        return value
    }

    func contains(_ id: ConnectionID) -> Bool {
        let i = Int(id.index)
        return i < values.count && generations[i] == id.generation && values[i] != nil
    }

    subscript(id: ConnectionID) -> Element? {
        contains(id) ? values[Int(id.index)] : nil
    }

    /// Runs `body` on the occupant in place (no copy-on-write copy of what it owns). Returns
    /// nil when `id` is stale. `body` must not touch the slab itself.
    mutating func withValue<R>(_ id: ConnectionID, _ body: (inout Element) -> R) -> R? {
        guard contains(id) else { return nil }
        return body(&values[Int(id.index)]!)
    }

    /// The ids of all occupants, collected first so the caller may mutate the slab while
    /// walking them.
    var ids: [ConnectionID] {
        var out: [ConnectionID] = []
        out.reserveCapacity(count)
        for i in values.indices where values[i] != nil {
            out.append(ConnectionID(index: UInt32(i), generation: generations[i]))
        }
        return out
    }
}
