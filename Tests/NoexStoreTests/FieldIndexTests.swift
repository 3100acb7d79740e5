import NoexJSON
import Testing

@testable import NoexStore

/// A non-unique index keeps, per value, the keys holding it in the order they joined
/// (`InsertionOrderedSet`, tested on its own in `SteppedCollectionsTests` and NoexJSON's
/// `InsertionOrderedSetTests`).
@Suite struct FieldIndexTests {
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
