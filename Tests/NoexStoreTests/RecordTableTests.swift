import NoexJSON
import Testing

@testable import NoexStore

/// `RecordTable` keeps its key → slot map in `SlotIndex` (open addressing, stored hashes,
/// removal by shifting entries back). These tests drive the table and the index with random
/// operations and compare every answer with a plain model after each step.
@Suite struct RecordTableTests {
    /// Keys of several kinds, among them pairs that are equal as JSON (`1` and `1.0`).
    static func key(_ n: Int) -> JSON {
        switch n % 4 {
        case 0: return .string("k\(n)")
        case 1: return .int(Int64(n))
        case 2: return .double(Double(n - 1))  // equal to key(n - 1), an `.int`
        default: return .string(String(repeating: "x", count: n % 40) + "\(n)")
        }
    }

    /// The table's whole observable state against the model: live keys in insertion order,
    /// each one's record and position, absent keys absent.
    static func check(_ table: RecordTable, _ model: [(key: JSON, record: JSONObject)], universe: Int) {
        #expect(table.count == model.count)
        #expect(table.keys == model.map(\.key))
        #expect(table.records == model.map(\.record))
        for (key, record) in model {
            #expect(table.get(key) == record)
            guard let pos = table.position(of: key) else {
                Issue.record("missing key \(key)")
                continue
            }
            #expect(table.slots[pos]?.key == key)
        }
        let live = Set(model.map(\.key))
        for n in 0..<universe where !live.contains(key(n)) {
            #expect(!table.contains(key(n)))
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomOperationsMatchTheModel(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var table = RecordTable()
        var model: [(key: JSON, record: JSONObject, rowid: Int64)] = []
        let universe = 300
        for step in 0..<3000 {
            let n = Int.random(in: 0..<universe, using: &rng)
            let key = Self.key(n)
            let record: JSONObject = ["n": .int(Int64(n)), "step": .int(Int64(step))]
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5:
                let added = table.appendIfAbsent(key, record, rowid: Int64(step))
                #expect(added == !model.contains { $0.key == key })
                if added { model.append((key, record, Int64(step))) }
            case 5..<8:
                let removed = table.remove(key)
                if let i = model.firstIndex(where: { $0.key == key }) {
                    #expect(removed?.record == model[i].record)
                    #expect(removed?.rowid == model[i].rowid)
                    model.remove(at: i)
                } else {
                    #expect(removed == nil)
                }
            case 8:
                if let i = model.firstIndex(where: { $0.key == key }) {
                    // An update keeps the record's rowid.
                    #expect(table.replace(key, record) == model[i].rowid)
                    model[i].record = record
                }
            default:
                table.compact()
            }
            if step % 97 == 0 { Self.check(table, model.map { ($0.key, $0.record) }, universe: universe) }
        }
        Self.check(table, model.map { ($0.key, $0.record) }, universe: universe)
        #expect(table.slots.compactMap { $0?.rowid } == model.map(\.rowid))
        table.removeAll()
        Self.check(table, [], universe: universe)
    }

    /// Holes close a few slots per write (`OrderedSlots`): while a compaction runs, the table
    /// is the slots moved so far followed by those not yet, numbered in two spaces. Random
    /// inserts, deletes (mostly of the oldest records, as a purge does; in phases where holes
    /// soon outnumber live records), updates, rolled-back
    /// transactions and whole compactions in the middle of a stepped one must keep the order,
    /// the positions and every key.
    @Test(arguments: [21, 22, 23] as [UInt64])
    func compactionInStepsKeepsTheTable(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var table = RecordTable()
        var model: [(key: JSON, record: JSONObject)] = []
        var next = 0
        var checksWhileCompacting = 0
        var maxSlots = 0
        func newRecord() -> (JSON, JSONObject) {
            next += 1
            return (.string("k\(next)"), ["n": .int(Int64(next))])
        }
        func randomIndex(oldest: Bool) -> Int {
            Int.random(in: 0..<(oldest ? Swift.min(model.count, 40) : model.count), using: &rng)
        }
        for step in 0..<30_000 {
            // phases of growth and of purging: holes outnumber live records in the latter
            // (to over 4,096 slots, so the chunks a compaction frees lie below live ones)
            let purging = (step / 5000) % 2 == 1
            let r = Int.random(in: 0..<100, using: &rng)
            if r < (purging ? 20 : 75) || model.isEmpty {
                let (key, record) = newRecord()
                table.append(key, record, rowid: 0)
                model.append((key, record))
            } else if r < 86 {
                let i = randomIndex(oldest: r < 78)
                #expect(table.remove(model.remove(at: i).key)?.record != nil)
            } else if r < 95 {
                let i = randomIndex(oldest: false)
                let record: JSONObject = ["n": .int(Int64(-step))]
                table.replace(model[i].key, record)
                model[i].record = record
            } else {
                // a transaction rolled back: its removals and insert undone in reverse order
                table.holdCompaction += 1
                var removed: [(JSON, Int, JSONObject)] = []
                for i in model.indices.shuffled(using: &rng).prefix(3) {
                    let key = model[i].key
                    let r = table.remove(key)!
                    removed.append((key, r.slot, r.record))
                }
                let (key, record) = newRecord()
                table.append(key, record, rowid: 0)
                #expect(table.remove(key) != nil)
                for (key, slot, record) in removed.reversed() { table.restore(key, record, slot: slot, rowid: 0) }
                table.holdCompaction -= 1
            }
            if step % 4000 == 3999 {
                table.compact()
                #expect(!table.slots.compacting && table.slots.count == model.count)
            }
            maxSlots = Swift.max(maxSlots, table.slots.main.count)
            if table.slots.compacting && step % 20 == 0 {
                checksWhileCompacting += 1
                Self.check(table, model, universe: 0)
            } else if step % 1000 == 0 {
                Self.check(table, model, universe: 0)
            }
        }
        Self.check(table, model, universe: 0)
        #expect(checksWhileCompacting > 20 && maxSlots > 4096)
    }

    /// Transaction rollback: removed records go back into their old slots while compaction is
    /// held, so the insertion order is the one before.
    @Test func restoreWhileHeldPutsRecordsBackInOrder() {
        var table = RecordTable()
        var model: [(key: JSON, record: JSONObject)] = []
        for n in 0..<200 {
            let r: JSONObject = ["n": .int(Int64(n))]
            let added = table.appendIfAbsent(JSON.string("k\(n)"), r, rowid: 0)
            #expect(added)
            model.append((JSON.string("k\(n)"), r))
        }
        table.holdCompaction += 1
        var removed: [(JSON, Int, JSONObject)] = []
        for n in stride(from: 0, to: 200, by: 3) {
            let r = table.remove(JSON.string("k\(n)"))!
            removed.append((JSON.string("k\(n)"), r.slot, r.record))
        }
        for (key, slot, record) in removed.reversed() { table.restore(key, record, slot: slot, rowid: 0) }
        table.holdCompaction -= 1
        Self.check(table, model, universe: 0)
    }

    /// The index on its own, with hashes chosen to collide: probe runs that wrap around the
    /// end of the array and removals from their middle must keep every other entry findable.
    @Test func slotIndexSurvivesCollidingHashes() {
        var rng = SeededRandom(seed: 42)
        var index = SlotIndex()
        var live: [Int: Int] = [:]  // id -> slot
        let hash = { (id: Int) -> Int in (id % 5) * 7 + 13 }  // five hashes, clustered
        for step in 0..<5000 {
            let id = Int.random(in: 0..<64, using: &rng)
            if Bool.random(using: &rng) {
                let existing = index.findOrInsert(hash(id), slot: step) { $0 == live[id] }
                #expect(existing == live[id])
                if existing == nil { live[id] = step }
            } else {
                let removed = index.remove(hash(id)) { $0 == live[id] }
                #expect(removed == live[id])
                live[id] = nil
            }
            #expect(index.count == live.count)
            for (other, slot) in live {
                #expect(index.find(hash(other)) { $0 == slot } == slot)
            }
        }
    }

    /// A load sizes the table first (`reserveCapacity`): the entries keep their slots, and
    /// a reservation below the count changes nothing.
    @Test func reservedTableFindsEveryKey() {
        var table = RecordTable()
        table.append("first", ["n": 0], rowid: 0)
        table.reserveCapacity(1000)
        for n in 1..<1000 { table.append(.string("k\(n)"), ["n": .int(Int64(n))], rowid: 0) }
        table.reserveCapacity(10)
        #expect(table.count == 1000)
        #expect(table.get("first") == ["n": 0])
        for n in 1..<1000 { #expect(table.get(.string("k\(n)")) == ["n": .int(Int64(n))]) }
        #expect(table.keys.first == "first" && table.keys.last == "k999")
    }

    /// Growing moves the old table's entries a few per insertion: between moves a key may be
    /// in either table. Inserts, removals, lookups and renumberings while the index grows
    /// (doubling from 16 entries to 16,384) must find every
    /// live key and no removed one, with colliding hashes among them.
    @Test(arguments: [11, 12] as [UInt64])
    func growingIndexKeepsEveryKeyBetweenMoves(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var index = SlotIndex()
        var live: [Int: Int] = [:]  // id -> slot
        var liveIDs: [Int] = []  // the same ids, in an order the seed decides
        var hashes: [Int: Int] = [:]
        func hash(_ id: Int) -> Int {
            if let h = hashes[id] { return h }
            // one id in eight shares its hash with others (a probe must compare keys)
            let h = id % 8 == 0 ? 77 : Int.random(in: Int.min...Int.max, using: &rng)
            hashes[id] = h
            return h
        }
        var nextID = 0
        for step in 0..<12_000 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<7:
                let id = nextID
                nextID += 1
                #expect(index.findOrInsert(hash(id), slot: step) { $0 == live[id] } == nil)
                live[id] = step
                liveIDs.append(id)
            case 7..<9:
                guard !liveIDs.isEmpty else { continue }
                let at = Int.random(in: 0..<liveIDs.count, using: &rng)
                let id = liveIDs[at]
                liveIDs.swapAt(at, liveIDs.count - 1)
                liveIDs.removeLast()
                #expect(index.remove(hash(id)) { $0 == live[id] } == live[id])
                live[id] = nil
                #expect(index.find(hash(id)) { _ in true } == nil || id % 8 == 0)
            default:
                // an existing key is found, not inserted again
                guard let id = liveIDs.randomElement(using: &rng) else { continue }
                #expect(index.findOrInsert(hash(id), slot: -5) { $0 == live[id] } == live[id])
            }
            #expect(index.count == live.count)
            if step % 3000 == 0 {
                // compaction moves entries one at a time (slots get numbers of another space)
                for id in live.keys.sorted() {
                    index.renumber(hash(id), from: live[id]!, to: live[id]! + (1 << 40))
                    live[id]! += 1 << 40
                }
            }
            if step % 1000 == 0 || step > 11_950 {
                for (id, slot) in live { #expect(index.find(hash(id)) { $0 == slot } == slot) }
            } else {
                for _ in 0..<8 {
                    guard let id = liveIDs.randomElement(using: &rng), let slot = live[id] else { break }
                    #expect(index.find(hash(id)) { $0 == slot } == slot)
                }
            }
        }
        for id in 0..<nextID where live[id] == nil && id % 8 != 0 {
            #expect(index.find(hash(id)) { _ in true } == nil)
        }
    }

    /// A copied table shares its storage until one of them changes; the other must not see
    /// the change. The index's tables are reference-counted memory of their own, among them
    /// the table made ahead for the next growth (7,000 keys: past 3/8 of 16,384 entries), which
    /// both copies then grow into.
    @Test func aCopiedTableChangesAlone() {
        func record(_ n: Int) -> JSONObject { ["n": .int(Int64(n))] }
        func model(_ ns: [Int]) -> [(key: JSON, record: JSONObject)] { ns.map { (JSON.string("k\($0)"), record($0)) } }
        var a = RecordTable()
        for n in 0..<7000 { a.append(.string("k\(n)"), record(n), rowid: 0) }
        var b = a
        for n in 7000..<12_000 { b.append(.string("k\(n)"), record(n), rowid: 0) }
        for n in stride(from: 0, to: 7000, by: 2) { b.remove(.string("k\(n)")) }
        for n in 20_000..<22_000 { a.append(.string("k\(n)"), record(n), rowid: 0) }
        var c = b
        c.removeAll()
        Self.check(a, model(Array(0..<7000) + Array(20_000..<22_000)), universe: 0)
        Self.check(b, model(Array(stride(from: 1, to: 7000, by: 2)) + Array(7000..<12_000)), universe: 0)
        Self.check(c, [], universe: 0)
        for n in stride(from: 0, to: 7000, by: 2) { #expect(!b.contains(.string("k\(n)"))) }
    }

    /// The same for the index alone, copied while it holds the table made ahead for its next
    /// growth: each copy's entries must be its own (a lookup that accepts any key finds none
    /// of the other's).
    @Test func aCopiedIndexGrowsIntoItsOwnTable() {
        var rng = SeededRandom(seed: 9)
        let hashes = (0..<22_000).map { _ in Int.random(in: Int.min...Int.max, using: &rng) }
        var a = SlotIndex()
        for n in 0..<7000 { _ = a.findOrInsert(hashes[n], slot: n) { _ in false } }
        var b = a
        for n in 7000..<12_000 { _ = b.findOrInsert(hashes[n], slot: n) { _ in false } }
        for n in 12_000..<17_000 { _ = a.findOrInsert(hashes[n], slot: n) { _ in false } }
        for n in 0..<7000 {
            #expect(a.find(hashes[n]) { $0 == n } == n)
            #expect(b.find(hashes[n]) { $0 == n } == n)
        }
        for n in 7000..<12_000 { #expect(a.find(hashes[n]) { _ in true } == nil) }
        for n in 12_000..<17_000 { #expect(b.find(hashes[n]) { _ in true } == nil) }
        #expect(a.count == 12_000 && b.count == 12_000)
    }

    /// Slots live in chunks of 4,096: appends, removals from the end (which trim the tail back
    /// across chunk boundaries), a restore into an old slot and compaction over several chunks.
    @Test func slotsAcrossChunks() {
        var rng = SeededRandom(seed: 5)
        var table = RecordTable()
        var model: [(key: JSON, record: JSONObject)] = []
        var next = 0
        for round in 0..<4 {
            for _ in 0..<Int.random(in: 3000..<7000, using: &rng) {
                let r: JSONObject = ["n": .int(Int64(next))]
                table.append(.string("k\(next)"), r, rowid: 0)
                model.append((.string("k\(next)"), r))
                next += 1
            }
            // remove from the end, then from the middle
            for _ in 0..<Int.random(in: 1000..<4500, using: &rng) where !model.isEmpty {
                #expect(table.remove(model.removeLast().key) != nil)
            }
            // the tail was trimmed back to the last live slot, across chunks
            #expect(table.slots.count == model.last.map { table.position(of: $0.key)! + 1 } ?? 0)
            if round % 2 == 1 {
                for _ in 0..<500 where !model.isEmpty {
                    let i = Int.random(in: 0..<model.count, using: &rng)
                    #expect(table.remove(model.remove(at: i).key) != nil)
                }
            }
            Self.check(table, model, universe: 0)
        }
        table.compact()
        #expect(table.slots.count == model.count)
        Self.check(table, model, universe: 0)
    }
}
