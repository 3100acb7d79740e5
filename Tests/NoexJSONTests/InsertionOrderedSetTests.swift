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

    /// A large set closes its holes a few slots per change (`OrderedSlots`), as a bucket does:
    /// a purge of the oldest keys with joins in between (past 4,096 slots, so freed chunks lie
    /// below live keys), checked while compactions run; a copy taken mid-compaction changes
    /// apart from the set.
    @Test func largeSetsCloseHolesInSteps() {
        var set = InsertionOrderedSet<Int>()
        var model = Array(0..<20_000)
        var head = 0  // model[head...] are the set's keys
        for k in model { set.insert(k) }
        var checks = 0
        var copied = false
        for step in 0..<18_000 {
            set.remove(model[head])
            head += 1
            if step % 3 == 0 {
                set.insert(100_000 + step)
                model.append(100_000 + step)
            }
            guard set.box!.keys.compacting else { continue }
            if !copied {
                copied = true
                var copy = set
                let before = set.keys
                copy.remove(model[head + 5])
                copy.insert(-1)
                #expect(set.keys == before && !set.contains(-1) && set.contains(model[head + 5]))
                var expected = Array(model[head...])
                expected.remove(at: 5)
                #expect(copy.keys == expected + [-1])
            }
            if step % 50 == 0 {
                checks += 1
                #expect(set.keys == Array(model[head...]) && set.count == model.count - head)
                #expect(set.contains(model[head]) && !set.contains(model[head - 1]))
            }
        }
        #expect(set.keys == Array(model[head...]))
        #expect(checks > 20)
        set.closeHoles()
        #expect(!set.box!.keys.compacting && set.box!.keys.count == set.count)
        #expect(set.keys == Array(model[head...]))
    }
}
