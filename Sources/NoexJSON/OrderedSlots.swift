/// Elements (slots) in insertion order, holes (removed ones) included, and how the holes are
/// closed a few slots at a time: under a bucket's records (`RecordTable`) and a large
/// `InsertionOrderedSet` (a non-unique index's keys per value, the rule engine's facts).
///
/// Closing the holes of a large table in one go stalled the loop: deleting the oldest 524,289
/// of 2^20 records made that one delete copy every live slot and renumber every index entry,
/// ~95 ms (`store-bench` `delete_1m_oldest_slowest`; bench/README.md, "A bucket closes its
/// holes in steps"). So a compaction moves live slots from `main` into `compacted` a few per
/// change (`remove(_:index:hash:)`, `compactStep`, called by the owner); meanwhile the slots are `compacted` (those
/// moved, in order) followed by `main` from `cursor` on (those not moved yet, then new ones).
///
/// A slot *number* (what the owner's hash table holds) names a slot in one of the two spaces:
/// bit 40 of it is the space's place in `spaces`, the bits below are the slot's place there.
/// When a compaction ends, `compacted` becomes `main` by swapping the spaces' roles, so at that
/// moment no number changes. A *position* (the `Collection` index) counts slots in order across
/// both spaces, and is valid until the next change.
public struct OrderedSlots<Slot>: RandomAccessCollection {
    /// `main` and `compacted`, in the order bit 40 of a slot number picks them. Reads index
    /// this array instead of branching between two properties: a subscript that yielded from
    /// either was not inlined and copied every slot it read (+2,800 instructions per
    /// `store.get`, `bench/callgrind.sh`). An owner reads slots from non-mutating code: inside
    /// a mutating method the generic accessor copies the slot too (`RecordTable.getWithText`).
    @usableFromInline var spaces = [SlotChunks<Slot>(), SlotChunks<Slot>()]
    /// Which of `spaces` is `main` (0 or 1).
    @usableFromInline var mainIndex = 0
    /// Slots of `main` before this one are moved (nil, their chunks released).
    @usableFromInline var moveCursor = 0
    @usableFromInline var isCompacting = false
    @inlinable static var spaceShift: Int { 40 }
    @inlinable static var offsetMask: Int { (1 << spaceShift) - 1 }

    @inlinable public init() {}

    @inlinable public var cursor: Int { moveCursor }
    /// A compaction runs: the owner's changes move it on until it ends.
    @inlinable public var compacting: Bool { isCompacting }

    /// The slots not moved yet (from `cursor` on), then new ones.
    @inlinable
    public var main: SlotChunks<Slot> {
        get { spaces[mainIndex] }
        _modify { yield &spaces[mainIndex] }
    }

    /// While compacting: the slots moved so far, in order.
    @inlinable
    public var compacted: SlotChunks<Slot> {
        get { spaces[mainIndex ^ 1] }
        _modify { yield &spaces[mainIndex ^ 1] }
    }

    @inlinable @inline(__always) static func space(_ n: Int) -> Int { (n >> spaceShift) & 1 }
    @inlinable @inline(__always) static func offset(_ n: Int) -> Int { n & offsetMask }
    @inlinable @inline(__always) static func number(space: Int, offset: Int) -> Int { space << spaceShift | offset }

    // MARK: positions (order)

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { compacted.count + main.count - moveCursor }

    @inlinable
    public subscript(position: Int) -> Slot? {
        let before = compacted.count
        return position < before ? compacted[position] : main[position - before + moveCursor]
    }

    /// The position of the slot numbered `n`.
    @inlinable @inline(__always)
    public func position(ofSlot n: Int) -> Int {
        Self.space(n) == mainIndex ? compacted.count + Self.offset(n) - moveCursor : Self.offset(n)
    }

    // MARK: numbers (what the owner's hash table holds)

    /// The slot numbered `n` (nil: a hole).
    @inlinable
    public subscript(slot n: Int) -> Slot? {
        @inline(__always) _read { yield spaces[Self.space(n)][Self.offset(n)] }
        @inline(__always) _modify { yield &spaces[Self.space(n)][Self.offset(n)] }
    }

    /// The number the next appended slot gets (new slots go to the end of `main`).
    @inlinable public var nextNumber: Int { Self.number(space: mainIndex, offset: main.count) }

    /// The number of the last slot of `main`, the end of the order.
    @inlinable
    public var lastNumber: Int? { main.count > moveCursor ? Self.number(space: mainIndex, offset: main.count - 1) : nil }

    @inlinable
    public mutating func append(_ slot: consuming Slot?) { spaces[mainIndex].append(slot) }

    /// Makes room up to slot number `n` (a restore into a slot trimmed off the end).
    @inlinable
    public mutating func extend(toHold n: Int) {
        guard Self.space(n) == mainIndex else { return }
        while main.count <= Self.offset(n) { main.append(nil) }
    }

    @inlinable
    public mutating func reserveCapacity(_ n: Int) { main.reserveCapacity(n) }

    /// Drops the holes at the end.
    @inlinable
    public mutating func trimTail() {
        while main.count > moveCursor, let last = main.last, last == nil { main.removeLast() }
        if isCompacting && main.count == moveCursor { finishCompaction() }
    }

    // MARK: compaction

    /// Slots a running compaction moves per change: each live one costs a hash and a probe of
    /// the owner's index to renumber, and a compaction of n slots ends after n / 16 changes, before that
    /// many more removals could outnumber the live slots again.
    @inlinable public static var compactionStep: Int { 16 }

    /// Makes slot `n` a hole, trims the holes at the end, and runs a compaction step, starting
    /// a compaction once holes outnumber the live slots. `index` is the owner's map of these
    /// slots (its count is the live slots): a step points it at each moved slot's new number,
    /// finding the entry by `hash` of the slot.
    @inlinable
    public mutating func remove(_ n: Int, index: inout SlotIndex, hash: (Slot) -> Int) {
        self[slot: n] = nil
        if n == lastNumber { trimTail() }
        if !isCompacting {
            guard count - index.count > Swift.max(32, index.count) else { return }
            startCompaction(liveCount: index.count)
        }
        compactStep(index: &index, hash: hash)
    }

    /// A step of the running compaction, if one runs (the owner calls it after an append).
    @inlinable
    public mutating func compactStep(index: inout SlotIndex, hash: (Slot) -> Int) {
        guard isCompacting else { return }
        compact(upTo: moveCursor + Self.compactionStep, index: &index, hash: hash)
    }

    /// Closes every hole now (tests). A running compaction leaves the holes of slots removed
    /// after it moved them, so one more may be needed.
    @inlinable
    public mutating func closeAllHoles(index: inout SlotIndex, hash: (Slot) -> Int) {
        while isCompacting || count > index.count {
            if !isCompacting { startCompaction(liveCount: index.count) }
            compact(upTo: .max, index: &index, hash: hash)
        }
    }

    @inlinable
    mutating func startCompaction(liveCount: Int) {
        isCompacting = true
        moveCursor = 0
        compacted.reserveCapacity(liveCount)
    }

    /// Moves the slots of `main` from `cursor` up to `limit` (exclusive) to the end of
    /// `compacted`, renumbering each live one in `index`, and ends the compaction once none
    /// are left.
    @inlinable
    mutating func compact(upTo limit: Int, index: inout SlotIndex, hash: (Slot) -> Int) {
        let end = Swift.min(limit, main.count)
        for i in moveCursor..<end {
            guard let slot = main[i] else { continue }
            main[i] = nil
            index.renumber(
                hash(slot), from: Self.number(space: mainIndex, offset: i),
                to: Self.number(space: mainIndex ^ 1, offset: compacted.count))
            compacted.append(slot)
        }
        moveCursor = Swift.max(moveCursor, end)
        main.release(below: moveCursor)
        if moveCursor == main.count { finishCompaction() }
    }

    @inlinable
    mutating func finishCompaction() {
        main = SlotChunks<Slot>()
        mainIndex ^= 1
        moveCursor = 0
        isCompacting = false
        trimTail()
    }
}
