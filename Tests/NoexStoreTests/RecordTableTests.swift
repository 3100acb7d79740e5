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
        var model: [(key: JSON, record: JSONObject)] = []
        let universe = 300
        for step in 0..<3000 {
            let n = Int.random(in: 0..<universe, using: &rng)
            let key = Self.key(n)
            let record: JSONObject = ["n": .int(Int64(n)), "step": .int(Int64(step))]
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5:
                let added = table.appendIfAbsent(key, record)
                #expect(added == !model.contains { $0.key == key })
                if added { model.append((key, record)) }
            case 5..<8:
                let removed = table.remove(key)
                if let i = model.firstIndex(where: { $0.key == key }) {
                    #expect(removed?.record == model[i].record)
                    model.remove(at: i)
                } else {
                    #expect(removed == nil)
                }
            case 8:
                if let i = model.firstIndex(where: { $0.key == key }) {
                    table.replace(key, record)
                    model[i].record = record
                }
            default:
                table.compact()
            }
            if step % 97 == 0 { Self.check(table, model, universe: universe) }
        }
        Self.check(table, model, universe: universe)
        table.removeAll()
        Self.check(table, [], universe: universe)
    }

    /// Transaction rollback: removed records go back into their old slots while compaction is
    /// held, so the insertion order is the one before.
    @Test func restoreWhileHeldPutsRecordsBackInOrder() {
        var table = RecordTable()
        var model: [(key: JSON, record: JSONObject)] = []
        for n in 0..<200 {
            let r: JSONObject = ["n": .int(Int64(n))]
            let added = table.appendIfAbsent(JSON.string("k\(n)"), r)
            #expect(added)
            model.append((JSON.string("k\(n)"), r))
        }
        table.holdCompaction += 1
        var removed: [(JSON, Int, JSONObject)] = []
        for n in stride(from: 0, to: 200, by: 3) {
            let r = table.remove(JSON.string("k\(n)"))!
            removed.append((JSON.string("k\(n)"), r.slot, r.record))
        }
        for (key, slot, record) in removed.reversed() { table.restore(key, record, slot: slot) }
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
        table.append("first", ["n": 0])
        table.reserveCapacity(1000)
        for n in 1..<1000 { table.append(.string("k\(n)"), ["n": .int(Int64(n))]) }
        table.reserveCapacity(10)
        #expect(table.count == 1000)
        #expect(table.get("first") == ["n": 0])
        for n in 1..<1000 { #expect(table.get(.string("k\(n)")) == ["n": .int(Int64(n))]) }
        #expect(table.keys.first == "first" && table.keys.last == "k999")
    }
}
