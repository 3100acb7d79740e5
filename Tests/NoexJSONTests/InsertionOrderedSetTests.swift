import Testing

@testable import NoexJSON

/// `InsertionOrderedSet` below and across the size where it makes its table (randomized
/// against an array as it grows large: NoexStoreTests' `SteppedCollectionsTests`).
@Suite struct InsertionOrderedSetTests {
    /// A set of a few keys has no table (it scans): many joins and removals among six keys
    /// (holes closing while small), then past the limit into a table; copies change apart in
    /// both modes.
    @Test func smallSetsScanAndCopiesChangeApart() {
        var rng = SeededRandom(seed: 6)
        var set = InsertionOrderedSet<Int>()
        var model: [Int] = []
        for _ in 0..<3000 {
            let key = Int.random(in: 0..<6, using: &rng)
            if Bool.random(using: &rng) {
                set.remove(key)
                model.removeAll { $0 == key }
            } else {
                set.insert(key)
                if !model.contains(key) { model.append(key) }
            }
            #expect(set.keys == model && set.count == model.count)
        }
        #expect(set.box == nil)
        for phase in 0..<2 {
            let before = set.keys
            var copy = set
            copy.insert(100 + phase)
            if let first = before.first { copy.remove(first) }
            #expect(set.keys == before)
            #expect(copy.keys == Array(before.dropFirst()) + [100 + phase])
            for id in 200..<220 { set.insert(id) }  // past the limit: a table
            #expect(set.box != nil && set.contains(219) && !set.contains(100 + phase))
        }
    }
}
