import NoexJSON

/// The slots of a `RecordTable` in insertion order, holes (removed records) included, and how
/// its holes are closed a few slots at a time.
///
/// Closing the holes of a large bucket in one go stalled the loop: deleting the oldest
/// 524,289 of 2^20 records made that one delete copy every live slot and renumber every index
/// entry, 141 ms (`store-bench` `delete_1m_oldest_slowest`; bench/README.md, "A bucket closes
/// its holes in steps"). So a compaction moves live slots from `main` into `compacted` a few
/// per write (`RecordTable.compactSome`); meanwhile the table is `compacted` (the slots moved,
/// in order) followed by `main` from `cursor` on (the slots not moved yet, then new ones).
///
/// A slot *number* (what the key index holds) names a slot in one of the two spaces: bit 40 of
/// it is the space's place in `spaces`, the bits below are the slot's place there. When a
/// compaction ends, `compacted` becomes `main` by swapping the spaces' roles, so at that moment
/// no number changes. A
/// *position* (the `Collection` index) counts slots in table order across both spaces, and is
/// valid until the next change.
struct RecordSlots: RandomAccessCollection {
    typealias Slot = RecordTable.Slot

    /// `main` and `compacted`, in the order bit 40 of a slot number picks them. Reads index
    /// this array instead of branching between two properties: with a branch, the access was
    /// not inlined and copied every slot it read (+60 instructions per `store.get`,
    /// `bench/callgrind.sh`).
    private var spaces = [SlotChunks<Slot>(), SlotChunks<Slot>()]
    /// Which of `spaces` is `main` (0 or 1).
    private var mainIndex = 0
    /// Slots of `main` before this one are moved (nil, their chunks released).
    private(set) var cursor = 0
    private(set) var compacting = false
    private static var spaceShift: Int { 40 }
    private static var offsetMask: Int { (1 << spaceShift) - 1 }

    /// The slots not moved yet (from `cursor` on), then new ones.
    var main: SlotChunks<Slot> {
        get { spaces[mainIndex] }
        _modify { yield &spaces[mainIndex] }
    }

    /// While compacting: the slots moved so far, in order.
    var compacted: SlotChunks<Slot> {
        get { spaces[mainIndex ^ 1] }
        _modify { yield &spaces[mainIndex ^ 1] }
    }

    @inline(__always) private static func space(_ n: Int) -> Int { (n >> spaceShift) & 1 }
    @inline(__always) private static func offset(_ n: Int) -> Int { n & offsetMask }
    @inline(__always) private static func number(space: Int, offset: Int) -> Int { space << spaceShift | offset }

    // MARK: positions (table order)

    var startIndex: Int { 0 }
    var endIndex: Int { compacted.count + main.count - cursor }

    subscript(position: Int) -> Slot? {
        let before = compacted.count
        return position < before ? compacted[position] : main[position - before + cursor]
    }

    /// The position of the slot numbered `n`.
    @inline(__always)
    func position(ofSlot n: Int) -> Int {
        Self.space(n) == mainIndex ? compacted.count + Self.offset(n) - cursor : Self.offset(n)
    }

    // MARK: numbers (what the key index holds)

    /// Whether slot `n` holds `key` (it must hold a record).
    @inline(__always)
    func holds(_ n: Int, _ key: JSON) -> Bool { spaces[Self.space(n)][Self.offset(n)]!.key == key }

    /// Whether slot `n` holds the string key whose UTF-8 bytes are `utf8`.
    @inline(__always)
    func holds(_ n: Int, stringSpelledBy utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        spaces[Self.space(n)][Self.offset(n)]!.key.isString(spelledBy: utf8)
    }

    @inline(__always)
    func record(_ n: Int) -> JSONObject { spaces[Self.space(n)][Self.offset(n)]!.record }

    @inline(__always)
    func attachedText(_ n: Int) -> [UInt8]? { spaces[Self.space(n)][Self.offset(n)]!.record.attachedText }

    /// The slot numbered `n` (nil: a hole).
    func slot(_ n: Int) -> Slot? { spaces[Self.space(n)][Self.offset(n)] }

    mutating func setRecord(_ n: Int, _ record: JSONObject) { spaces[Self.space(n)][Self.offset(n)]!.record = record }

    mutating func attachText(_ n: Int) { spaces[Self.space(n)][Self.offset(n)]!.record.attachText() }

    /// Puts a slot (a restored record) or a hole at number `n`.
    mutating func set(_ n: Int, _ slot: Slot?) { spaces[Self.space(n)][Self.offset(n)] = slot }

    /// The number the next appended slot gets (new slots go to the end of `main`).
    var nextNumber: Int { Self.number(space: mainIndex, offset: main.count) }

    /// The number of the last slot of `main`, the end of the table.
    var lastNumber: Int? { main.count > cursor ? Self.number(space: mainIndex, offset: main.count - 1) : nil }

    mutating func append(_ slot: consuming Slot?) { spaces[mainIndex].append(slot) }

    /// Makes room up to slot number `n` (a restore into a slot trimmed off the end).
    mutating func extend(toHold n: Int) {
        guard Self.space(n) == mainIndex else { return }
        while main.count <= Self.offset(n) { main.append(nil) }
    }

    mutating func reserveCapacity(_ n: Int) { main.reserveCapacity(n) }

    /// Drops the holes at the end of the table.
    mutating func trimTail() {
        while main.count > cursor, let last = main.last, last == nil { main.removeLast() }
        if compacting && main.count == cursor { finishCompaction() }
    }

    // MARK: compaction

    mutating func startCompaction(liveCount: Int) {
        compacting = true
        cursor = 0
        compacted.reserveCapacity(liveCount)
    }

    /// Moves the slots of `main` from `cursor` up to `limit` (exclusive) to the end of
    /// `compacted`, calling `moved` with the numbers of each live one, and ends the compaction
    /// once none are left.
    mutating func compact(upTo limit: Int, _ moved: (Slot, _ old: Int, _ new: Int) -> Void) {
        let end = Swift.min(limit, main.count)
        for i in cursor..<end {
            guard let slot = main[i] else { continue }
            main[i] = nil
            moved(slot, Self.number(space: mainIndex, offset: i), Self.number(space: mainIndex ^ 1, offset: compacted.count))
            compacted.append(slot)
        }
        cursor = Swift.max(cursor, end)
        main.release(below: cursor)
        if cursor == main.count { finishCompaction() }
    }

    private mutating func finishCompaction() {
        main = SlotChunks<Slot>()
        mainIndex ^= 1
        cursor = 0
        compacting = false
        trimTail()
    }
}
