import NoexJSON

/// Records of one bucket: O(1) lookup by key and insertion-ordered iteration.
///
/// Slots are appended; a delete leaves a hole, and once holes outnumber live records a
/// compaction closes them, a few slots per later write (`OrderedSlots`). An update keeps the
/// key's slot (its position in `all()`); delete and re-insert moves the key to the end, as the
/// original's insertion-ordered map does. A removed record can be put back into its old slot
/// (transaction rollback) while compaction is held.
///
/// Each slot also holds its record's rowid (`StoreChanges`): given when the record goes in,
/// kept by an update.
struct RecordTable {
    struct Slot {
        var key: JSON
        var record: JSONObject
        var rowid: Int64
    }

    /// The slots in table order (`Collection` positions); the index holds their numbers.
    private(set) var slots = OrderedSlots<Slot>()
    private var index = SlotIndex()
    /// While > 0, no slot moves, so slot numbers stay valid for `restore`.
    var holdCompaction = 0

    var count: Int { index.count }

    @inline(__always)
    private func slot(of key: JSON) -> Int? {
        index.find(SlotIndex.hash(key)) { slots[slot: $0]!.key == key }
    }

    func get(_ key: JSON) -> JSONObject? {
        guard let i = slot(of: key) else { return nil }
        return slots[slot: i]!.record
    }

    /// The record with its JSON text attached (attached now if it was not yet, e.g. a record
    /// loaded from storage), so answering the next read of it copies bytes.
    mutating func getWithText(_ key: JSON) -> JSONObject? {
        guard let i = slot(of: key) else { return nil }
        if attachedText(i) == nil { slots[slot: i]!.record.attachText() }
        return record(i)
    }

    /// The text `getWithText(.string(s))` attaches, for the string key whose UTF-8 bytes are
    /// `utf8` and whose `SlotIndex.hash` is `hash`, without making the `String` or copying the
    /// record (Store+TextRead.swift).
    mutating func text(stringKey utf8: UnsafeBufferPointer<UInt8>, hash: Int) -> [UInt8]? {
        guard let i = slot(ofString: utf8, hash: hash) else { return nil }
        if let text = attachedText(i) { return text }
        slots[slot: i]!.record.attachText()
        return attachedText(i)!  // attachText always attaches
    }

    // The reads of `getWithText` and `text(stringKey:hash:)`, outside their mutating context:
    // there, reading a slot through the generic accessor copied it (a runtime copy of the
    // optional slot, ~1,000 instructions per `store.get`).
    private func slot(ofString utf8: UnsafeBufferPointer<UInt8>, hash: Int) -> Int? {
        index.find(hash) { slots[slot: $0]!.key.isString(spelledBy: utf8) }
    }

    @inline(__always) private func attachedText(_ i: Int) -> [UInt8]? { slots[slot: i]!.record.attachedText }
    @inline(__always) private func record(_ i: Int) -> JSONObject { slots[slot: i]!.record }

    func contains(_ key: JSON) -> Bool { slot(of: key) != nil }

    /// The key's position in table order (valid until the next change).
    func position(of key: JSON) -> Int? { slot(of: key).map { slots.position(ofSlot: $0) } }

    /// Position in table order and record of a key in one lookup.
    func entry(_ key: JSON) -> (position: Int, record: JSONObject)? {
        guard let i = slot(of: key) else { return nil }
        return (slots.position(ofSlot: i), slots[slot: i]!.record)
    }

    /// Room for `n` records in all (a load that knows how many come).
    mutating func reserveCapacity(_ n: Int) {
        slots.reserveCapacity(n)
        index.reserveCapacity(n)
    }

    /// Appends a key that is not in the table. A key that is already there traps, in release
    /// builds too: it would be a second slot for one key, a broken invariant of the caller (every
    /// caller checks first), and the check costs nothing (`appendIfAbsent` answers it anyway).
    mutating func append(_ key: JSON, _ record: JSONObject, rowid: Int64) {
        let added = appendIfAbsent(key, record, rowid: rowid)
        precondition(added, "RecordTable.append: the key is already in the table")
    }

    /// Appends the record unless its key is in the table (then nothing changes and it returns
    /// false): one hash and one probe for the existence check and the insertion.
    mutating func appendIfAbsent(_ key: JSON, _ record: JSONObject, rowid: Int64) -> Bool {
        if Self.findOrInsert(&index, slots, key, slot: slots.nextNumber) != nil { return false }
        slots.append(Slot(key: key, record: record, rowid: rowid))
        if holdCompaction == 0 { slots.compactStep(index: &index) { SlotIndex.hash($0.key) } }
        return true
    }

    // The index is changed while the slots are read (to compare keys): as two arguments, these
    // are disjoint accesses, and `slots` is borrowed, so no reference to its storage outlives
    // the call (a copy kept alive would make the next append copy the chunk list and a chunk).
    private static func findOrInsert(_ index: inout SlotIndex, _ slots: OrderedSlots<Slot>, _ key: JSON, slot: Int) -> Int? {
        index.findOrInsert(SlotIndex.hash(key), slot: slot) { slots[slot: $0]!.key == key }
    }

    private static func remove(_ index: inout SlotIndex, _ slots: OrderedSlots<Slot>, _ key: JSON) -> Int? {
        index.remove(SlotIndex.hash(key)) { slots[slot: $0]!.key == key }
    }

    /// Replaces the record in the last slot, which holds `key` (no lookup).
    mutating func replaceLast(_ key: JSON, _ record: JSONObject) {
        let last = slots.lastNumber!
        assert(slots[slot: last]!.key == key, "replaceLast: the last slot holds another key")
        slots[slot: last]!.record = record
    }

    /// Replaces the record of an existing key in place; returns the slot's rowid.
    @discardableResult
    mutating func replace(_ key: JSON, _ record: JSONObject) -> Int64 {
        let i = slot(of: key)!
        slots[slot: i]!.record = record
        return rowid(i)
    }

    @inline(__always) private func rowid(_ i: Int) -> Int64 { slots[slot: i]!.rowid }

    /// Removes a key; returns its old slot number (for `restore`), record and rowid.
    @discardableResult
    mutating func remove(_ key: JSON) -> (slot: Int, record: JSONObject, rowid: Int64)? {
        guard let i = Self.remove(&index, slots, key) else { return nil }
        let record = record(i), rowid = rowid(i)
        if holdCompaction > 0 {
            slots[slot: i] = nil
        } else {
            slots.remove(i, index: &index) { SlotIndex.hash($0.key) }
        }
        return (i, record, rowid)
    }

    /// Puts a removed record back into its old slot (only valid while compaction is held).
    mutating func restore(_ key: JSON, _ record: JSONObject, slot: Int, rowid: Int64) {
        slots.extend(toHold: slot)
        slots[slot: slot] = Slot(key: key, record: record, rowid: rowid)
        _ = Self.findOrInsert(&index, slots, key, slot: slot)
    }

    /// Gives the record of `key` the rowid; false when the key has no record.
    mutating func setRowid(_ key: JSON, _ rowid: Int64) -> Bool {
        guard let i = slot(of: key) else { return false }
        slots[slot: i]!.rowid = rowid
        return true
    }

    /// The rowid of the record of `key`.
    func rowid(of key: JSON) -> Int64? { slot(of: key).map(rowid) }

    /// Gives every record a new rowid from `next`, in table order.
    mutating func renumberRowids(_ next: () -> Int64) {
        for key in keys { slots[slot: slot(of: key)!]!.rowid = next() }
    }

    mutating func removeAll() {
        slots = OrderedSlots<Slot>()
        index.removeAll()
    }

    /// Closes every hole now (tests; writes close them in steps).
    mutating func compact() {
        slots.closeAllHoles(index: &index) { SlotIndex.hash($0.key) }
    }

    /// Records in insertion order.
    var records: [JSONObject] {
        var out: [JSONObject] = []
        out.reserveCapacity(count)
        for case let s? in slots { out.append(s.record) }
        return out
    }

    /// Keys in insertion order.
    var keys: [JSON] {
        var out: [JSON] = []
        out.reserveCapacity(count)
        for case let s? in slots { out.append(s.key) }
        return out
    }
}

/// One index over a field: unique (value → key) or not (value → the keys holding it, in the
/// order they joined: an `InsertionOrderedSet`, as the original's JavaScript `Set`).
///
/// Both maps are `SteppedDictionary`s and a value's keys an `InsertionOrderedSet`: none of them
/// re-places its entries in one insertion as it grows (a unique index's `Dictionary` did, for
/// 264 ms at 786,432 values), and a value's keys are changed in place, so a removal or an
/// update of the field costs the same however many records share the value (an array of them
/// cost a search and a copy of all of it per removal: ~340 µs per delete with 50,000 records
/// per value, `store-bench`'s `delete_indexed_200k`).
///
/// `null`, missing, object and array values are never indexed: they never match a strict-equality
/// filter and never collide in a unique constraint (objects compare by identity in the original).
struct FieldIndex {
    let field: String
    let unique: Bool
    private(set) var uniqueMap = SteppedDictionary<JSON, JSON>()
    private(set) var multiMap = SteppedDictionary<JSON, InsertionOrderedSet<JSON>>()

    init(field: String, unique: Bool) {
        self.field = field
        self.unique = unique
    }

    static func indexable(_ v: JSON?) -> JSON? {
        guard let v else { return nil }
        switch v {
        case .null, .array, .object: return nil
        default: return v
        }
    }

    /// The key already holding `record`'s value of a unique field, unless it is `excluding`.
    func conflict(for record: JSONObject, excluding: (JSON) -> Bool) -> JSON? {
        guard unique, let v = Self.indexable(record[field]), let holder = uniqueMap[v], !excluding(holder) else {
            return nil
        }
        return holder
    }

    mutating func add(_ key: JSON, _ record: JSONObject) {
        guard let v = Self.indexable(record[field]) else { return }
        if unique {
            uniqueMap.updateValue(key, forKey: v)
        } else {
            multiMap.modify(v, default: { InsertionOrderedSet() }) { $0.insert(key) }
        }
    }

    mutating func remove(_ key: JSON, _ record: JSONObject) {
        guard let v = Self.indexable(record[field]) else { return }
        if unique {
            if uniqueMap[v] == key { uniqueMap.removeValue(forKey: v) }
        } else {
            multiMap.modifyOrRemove(v) { keys in
                keys.remove(key)
                return keys.isEmpty
            }
        }
    }

    /// Keys whose field holds `value`, in the order they joined it.
    func lookup(_ value: JSON) -> [JSON] {
        guard let v = Self.indexable(value) else { return [] }
        if unique { return uniqueMap[v].map { [$0] } ?? [] }
        return multiMap[v]?.keys ?? []
    }

    /// How many keys `lookup(value)` returns, without listing them.
    func count(_ value: JSON) -> Int {
        guard let v = Self.indexable(value) else { return 0 }
        if unique { return uniqueMap[v] == nil ? 0 : 1 }
        return multiMap[v]?.count ?? 0
    }

    mutating func removeAll() {
        uniqueMap.removeAll()
        multiMap.removeAll()
    }
}
