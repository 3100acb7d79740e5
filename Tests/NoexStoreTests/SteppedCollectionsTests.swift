import NoexJSON
import Testing

@testable import NoexStore

/// A key whose hash the test chooses: ids with equal `hashGroup` hash alike, so probes must
/// compare keys, and runs of equal hashes cross the moves of a growing table.
private struct CollidingKey: Hashable {
    let id: Int
    var hashGroup: Int { id % 8 == 0 ? -1 : id }
    static func == (a: CollidingKey, b: CollidingKey) -> Bool { a.id == b.id }
    func hash(into h: inout Hasher) { h.combine(hashGroup) }
}

/// `SteppedDictionary` (a bucket's index maps) and `InsertionOrderedSet` (a value's keys, the
/// rule engine's facts) against Swift's own collections while they grow through several
/// doublings in steps, shrink, and grow again.
@Suite struct SteppedCollectionsTests {
    @Test(arguments: [1, 2] as [UInt64])
    func steppedDictionaryMatchesADictionary(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var map = SteppedDictionary<CollidingKey, Int>()
        var model: [CollidingKey: Int] = [:]
        for step in 0..<30_000 {
            // Ids from a range that widens, then narrows: the map grows, then empties a lot.
            let range = step < 20_000 ? 1 + step / 2 : 1 + (30_000 - step)
            let key = CollidingKey(id: Int.random(in: 0..<range, using: &rng))
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<4:
                #expect(map.updateValue(step, forKey: key) == model.updateValue(step, forKey: key))
            case 4..<6:
                let added = map.modify(key, default: { 0 }) { v -> Int in v += 1; return v }
                model[key, default: 0] += 1
                #expect(added == model[key])
            case 6:
                // Removes the key once its value is odd.
                let removed = map.modifyOrRemove(key) { v in v += 1; return v % 2 == 1 }
                if var v = model[key] {
                    v += 1
                    #expect(removed == (v % 2 == 1))
                    model[key] = v % 2 == 1 ? nil : v
                } else {
                    #expect(removed == nil)
                }
            default:
                #expect(map.removeValue(forKey: key) == model.removeValue(forKey: key))
            }
            #expect(map.count == model.count)
            if step % 1000 == 999 {
                for (k, v) in model { #expect(map[k] == v) }
                for id in 0..<range where model[CollidingKey(id: id)] == nil {
                    #expect(map[CollidingKey(id: id)] == nil)
                }
            } else {
                let probe = CollidingKey(id: Int.random(in: 0..<range, using: &rng))
                #expect(map[probe] == model[probe])
            }
        }
        map.removeAll()
        #expect(map.isEmpty && map[CollidingKey(id: 1)] == nil)
    }

    @Test(arguments: [3, 4] as [UInt64])
    func insertionOrderedSetMatchesAnArray(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var set = InsertionOrderedSet<CollidingKey>()
        var model: [CollidingKey] = []
        var members = Set<CollidingKey>()
        var changes = 0
        for step in 0..<30_000 {
            let range = step < 20_000 ? 1 + step / 2 : 1 + (30_000 - step)
            let key = CollidingKey(id: Int.random(in: 0..<range, using: &rng))
            if Int.random(in: 0..<10, using: &rng) < (step < 20_000 ? 3 : 6) {
                set.remove(key)
                if members.remove(key) != nil {
                    model.removeAll { $0 == key }
                    changes += 1
                }
            } else {
                set.insert(key)
                if members.insert(key).inserted {
                    model.append(key)
                    changes += 1
                }
            }
            #expect(set.count == model.count && set.changes == changes)
            #expect(set.contains(key) == members.contains(key))
            if step % 1000 == 999 { #expect(set.keys == model) }
        }
        var seen: [CollidingKey] = []
        set.forEach { seen.append($0) }
        #expect(seen == model)
    }
}
