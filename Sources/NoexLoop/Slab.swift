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
///
/// A class over manually managed storage, because it sits under every event of every
/// connection: a `[Element?]` inside the server costs a dynamic exclusivity check on the
/// server's property, a uniqueness check and a bounds check per in-place access, and reading
/// whether a slot is occupied copied the whole entry out (retaining everything it owns). Here
/// an access is a generation compare and a pointer offset. The slots hold plain `Element`s (not
/// optionals, whose tag every access would test): `occupied` says which are initialized. The
/// slab belongs to the loop thread.
final class Slab<Element> {
    /// Slots `0..<used` have been used; those with `occupied` set are initialized. `capacity`
    /// are allocated.
    @exclusivity(unchecked) private var values: UnsafeMutablePointer<Element>
    @exclusivity(unchecked) private var generations: UnsafeMutablePointer<UInt32>
    /// Whether each slot is occupied, apart from the slot itself: even a pattern match on an
    /// `Element?` in memory copies it out.
    @exclusivity(unchecked) private var occupied: UnsafeMutablePointer<Bool>
    @exclusivity(unchecked) private var used = 0
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private var freeList: [UInt32] = []
    @exclusivity(unchecked) private(set) var count = 0

    init(capacity: Int = 16) {
        self.capacity = Swift.max(1, capacity)
        values = .allocate(capacity: self.capacity)
        generations = .allocate(capacity: self.capacity)
        occupied = .allocate(capacity: self.capacity)
    }

    deinit {
        for i in 0..<used where occupied[i] { (values + i).deinitialize(count: 1) }
        values.deallocate()
        generations.deallocate()
        occupied.deallocate()
    }

    /// Stores `value` in a free slot and returns its id.
    func insert(_ value: Element) -> ConnectionID {
        count += 1
        if let i = freeList.popLast() {
            (values + Int(i)).initialize(to: value)
            occupied[Int(i)] = true
            return ConnectionID(index: i, generation: generations[Int(i)])
        }
        if used == capacity { grow() }
        (values + used).initialize(to: value)
        generations[used] = 0
        occupied[used] = true
        used += 1
        return ConnectionID(index: UInt32(used - 1), generation: 0)
    }

    private func grow() {
        let bigger = capacity * 2
        let newValues = UnsafeMutablePointer<Element>.allocate(capacity: bigger)
        // Occupied slots move; free ones hold nothing to move.
        for i in 0..<used where occupied[i] { (newValues + i).moveInitialize(from: values + i, count: 1) }
        values.deallocate()
        values = newValues
        let newGenerations = UnsafeMutablePointer<UInt32>.allocate(capacity: bigger)
        newGenerations.moveInitialize(from: generations, count: used)
        generations.deallocate()
        generations = newGenerations
        let newOccupied = UnsafeMutablePointer<Bool>.allocate(capacity: bigger)
        newOccupied.moveInitialize(from: occupied, count: used)
        occupied.deallocate()
        occupied = newOccupied
        capacity = bigger
    }

    /// Removes and returns the occupant of `id`, or nil when `id` is stale.
    @discardableResult
    func remove(_ id: ConnectionID) -> Element? {
        guard contains(id) else { return nil }
        let i = Int(id.index)
        let value = (values + i).move()
        occupied[i] = false
        generations[i] &+= 1
        freeList.append(id.index)
        count -= 1
        return value
    }

    func contains(_ id: ConnectionID) -> Bool {
        let i = Int(id.index)
        return i < used && generations[i] == id.generation && occupied[i]
    }

    subscript(id: ConnectionID) -> Element? {
        contains(id) ? values[Int(id.index)] : nil
    }

    /// Runs `body` on the occupant in place (no copy of what it owns). Returns nil when `id`
    /// is stale. `body` must not touch the slab itself.
    func withValue<R>(_ id: ConnectionID, _ body: (inout Element) -> R) -> R? {
        guard contains(id) else { return nil }
        return body(&values[Int(id.index)])
    }

    /// The ids of all occupants, collected first so the caller may mutate the slab while
    /// walking them.
    var ids: [ConnectionID] {
        var out: [ConnectionID] = []
        out.reserveCapacity(count)
        for i in 0..<used where contains(ConnectionID(index: UInt32(i), generation: generations[i])) {
            out.append(ConnectionID(index: UInt32(i), generation: generations[i]))
        }
        return out
    }
}
