import NoexJSON
import Testing

@testable import NoexStore

/// `ResultDelta.between`: operations that turn the old array into the new one, and the cases
/// that fall back to the whole value.
@Suite struct ResultDeltaTests {
    private func rec(_ id: Int, _ v: Int = 0) -> JSON { ["id": .int(Int64(id)), "v": .int(Int64(v))] }

    /// Applies typed operations the way the protocol reference tells a client to.
    private func apply(_ delta: ResultDelta, to old: JSON) -> JSON? {
        switch delta {
        case .value(let v): return v
        case .ops(let ops):
            guard var a = old.arrayValue else { return nil }
            for op in ops {
                switch op {
                case .remove(let i): guard i < a.count else { return nil }; a.remove(at: i)
                case .insert(let i, let r): guard i <= a.count else { return nil }; a.insert(r, at: i)
                case .replace(let i, let r): guard i < a.count else { return nil }; a[i] = r
                }
            }
            return .array(a)
        }
    }

    @Test func smallChangesAreSmallOperationLists() {
        let base: JSON = .array((1...6).map { rec($0) })
        let inserted: JSON = .array((1...3).map { rec($0) } + [rec(9)] + (4...6).map { rec($0) })
        #expect(ResultDelta.between(base, inserted, keyField: "id") == .ops([.insert(index: 3, record: rec(9))]))
        let changed: JSON = .array((1...6).map { rec($0, $0 == 2 ? 5 : 0) })
        #expect(ResultDelta.between(base, changed, keyField: "id") == .ops([.replace(index: 1, record: rec(2, 5))]))
        let removed: JSON = .array((1...6).filter { $0 != 4 }.map { rec($0) })
        #expect(ResultDelta.between(base, removed, keyField: "id") == .ops([.remove(index: 3)]))
        // The first record moves to the end: one remove, one insert (not five moves).
        let rotated: JSON = .array((2...6).map { rec($0) } + [rec(1)])
        #expect(ResultDelta.between(base, rotated, keyField: "id") == .ops([.remove(index: 0), .insert(index: 5, record: rec(1))]))
        #expect(ResultDelta.between(base, base, keyField: "id") == .ops([]))
    }

    @Test func wholeValueWhenOperationsCannotDescribeItOrAreNotSmaller() {
        let two: JSON = [rec(1), rec(2)]
        #expect(ResultDelta.between(3, 4, keyField: "id") == .value(4))
        #expect(ResultDelta.between(.null, two, keyField: "id") == .value(two))
        #expect(ResultDelta.between(two, [rec(1), rec(2), rec(3)], keyField: nil) == .value([rec(1), rec(2), rec(3)]))
        #expect(ResultDelta.between(two, [rec(1), rec(2), "x"], keyField: "id") == .value([rec(1), rec(2), "x"]))
        #expect(ResultDelta.between(two, [rec(1), rec(2), ["v": 1]], keyField: "id") == .value([rec(1), rec(2), ["v": 1]]))
        // A key twice in the part that changed: records cannot be matched.
        let five: JSON = .array((1...5).map { rec($0) })
        let twice: JSON = [rec(1), rec(2), rec(3, 1), rec(3, 2), rec(5)]
        #expect(ResultDelta.between(five, twice, keyField: "id") == .value(twice))
        #expect(ResultDelta.between(twice, five, keyField: "id") == .value(five))
        // Outside it (an unchanged head or tail) matching is not needed: the indexes still apply.
        #expect(ResultDelta.between([rec(1), rec(1)], [rec(1), rec(1), rec(2), rec(3)], keyField: "id")
                == .ops([.insert(index: 2, record: rec(2)), .insert(index: 3, record: rec(3))]))
        // Every record changed: the operations would carry the whole result.
        #expect(ResultDelta.between(two, [rec(1, 1), rec(2, 1)], keyField: "id") == .value([rec(1, 1), rec(2, 1)]))
        // The first record of an empty result.
        #expect(ResultDelta.between([], [rec(1)], keyField: "id") == .value([rec(1)]))
    }

    /// Seeded random pairs (removals, insertions, changes, moves): applying the delta to the
    /// old array always gives the new one.
    @Test func randomPairsRoundTrip() {
        var rng = SeededRandom(seed: 0xDE17A)
        var opsSeen = 0
        for _ in 0..<3000 {
            let n = Int.random(in: 0...12, using: &rng)
            let old = (0..<n).map { rec($0, Int.random(in: 0..<3, using: &rng)) }
            var new = old.filter { _ in Int.random(in: 0..<5, using: &rng) > 0 }
            for i in new.indices where Int.random(in: 0..<5, using: &rng) == 0 { new[i] = rec(new[i]["id"]!.intValue.map(Int.init)!, 7) }
            for k in 0..<Int.random(in: 0...2, using: &rng) { new.insert(rec(100 + k), at: Int.random(in: 0...new.count, using: &rng)) }
            if new.count > 1, Bool.random(using: &rng) { new.swapAt(0, Int.random(in: 1..<new.count, using: &rng)) }
            let delta = ResultDelta.between(.array(old), .array(new), keyField: "id")
            if case .ops = delta { opsSeen += 1 }
            #expect(apply(delta, to: .array(old)) == .array(new), "\(old) → \(new): \(delta)")
        }
        #expect(opsSeen > 1000)
    }
}
