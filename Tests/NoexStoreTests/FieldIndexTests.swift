import NoexJSON
import Testing

@testable import NoexStore

/// A non-unique index keeps, per value, the keys holding it in the order they joined
/// (`InsertionOrderedSet`): removals leave holes that are closed once they outnumber the keys.
@Suite struct FieldIndexTests {
    /// Random joins and removals against an array model: same keys, same order, same count,
    /// through many hole closings (thousands of removals from lists of hundreds).
    @Test func insertionOrderedSetMatchesAnArray() {
        var rng = SeededRandom(seed: 21)
        var keys = InsertionOrderedSet<JSON>()
        var model: [JSON] = []
        for step in 0..<20_000 {
            let key = JSON.int(Int64(Int.random(in: 0..<400, using: &rng)))
            // Mostly joining for the first half, mostly leaving for the second.
            if Int.random(in: 0..<10, using: &rng) < (step < 10_000 ? 4 : 7) {
                keys.remove(key)
                model.removeAll { $0 == key }
            } else {
                keys.insert(key)
                if !model.contains(key) { model.append(key) }
            }
            #expect(keys.count == model.count)
            #expect(keys.isEmpty == model.isEmpty)
            if step % 97 == 0 { #expect(keys.keys == model) }
        }
        #expect(keys.keys == model)
    }

    /// Through the store: an indexed field and an unindexed copy of it answer every `where`
    /// and `count` alike (same records, same order) while records are inserted, moved between
    /// values, deleted and put back, many per value.
    @Test func indexedAndScannedAnswersAgree() throws {
        let store = makeStore()
        try store.defineBucket("crowd", config: [
            "key": "id",
            "schema": ["id": ["type": "number"], "tier": ["type": "string"], "copy": ["type": "string"]],
            "indexes": ["tier"],
        ])
        let tiers: [JSON] = ["a", "b", "c"]
        var rng = SeededRandom(seed: 5)
        var live = Set<Int64>()
        for step in 0..<4000 {
            let id = Int64.random(in: 0..<600, using: &rng)
            let tier = tiers[Int.random(in: 0..<3, using: &rng)]
            if live.contains(id) {
                if Bool.random(using: &rng) {
                    _ = try store.update(bucket: "crowd", key: .int(id), changes: ["tier": tier, "copy": tier])
                } else {
                    _ = try store.delete(bucket: "crowd", key: .int(id))
                    live.remove(id)
                }
            } else {
                _ = try store.insert(bucket: "crowd", record: ["id": .int(id), "tier": tier, "copy": tier])
                live.insert(id)
            }
            if step % 50 == 0 {
                for t in tiers {
                    let indexed = try store.where(bucket: "crowd", filter: ["tier": t])
                    let scanned = try store.where(bucket: "crowd", filter: ["copy": t])
                    #expect(indexed == scanned)
                    #expect(try store.count(bucket: "crowd", filter: ["tier": t]) == scanned.count)
                }
            }
        }
    }
}
