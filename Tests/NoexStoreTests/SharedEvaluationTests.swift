import NoexJSON
import Testing

@testable import NoexStore

/// Subscriptions to the same query with equal params share one evaluation per change
/// (the fan-out path); a mutation made by a listener invalidates what was shared.
@Suite struct SharedEvaluationTests {
    func store() throws -> Store {
        let store = makeStore()
        let def: JSONObject = ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"], "v": ["type": "number"]]]
        try store.defineBucket("x", config: def)
        try store.defineQuery("xs", config: ["bucket": "x"])
        try store.defineQuery("byV", config: ["bucket": "x", "filter": ["v": "{{ params.v }}"]])
        return store
    }

    @Test func equalQueriesAreEvaluatedOncePerChange() throws {
        let store = try store()
        var updates: [QueryUpdate] = []
        for _ in 0..<50 { _ = try store.subscribeUpdates(query: "xs") { updates.append($0) } }
        let base = store.evaluationCount
        _ = try store.insert(bucket: "x", record: ["v": 1])
        #expect(store.evaluationCount == base + 1)
        #expect(updates.count == 50)
        #expect(Set(updates.map(\.evaluation)).count == 1)
        #expect(updates.allSatisfy { $0.result.arrayValue?.count == 1 })
        updates.removeAll()
        _ = try store.insert(bucket: "x", record: ["v": 2])
        #expect(store.evaluationCount == base + 2)
        #expect(updates.count == 50 && Set(updates.map(\.evaluation)).count == 1)
        #expect(updates.allSatisfy { $0.result.arrayValue?.count == 2 })
    }

    @Test func differentParamsAreEvaluatedSeparately() throws {
        let store = try store()
        let one = Recorder(), two = Recorder(), oneAgain = Recorder()
        _ = try store.subscribe(query: "byV", params: ["v": 1], listener: one.listener)
        _ = try store.subscribe(query: "byV", params: ["v": 2], listener: two.listener)
        _ = try store.subscribe(query: "byV", params: ["v": 1], listener: oneAgain.listener)
        let base = store.evaluationCount
        _ = try store.insert(bucket: "x", record: ["v": 1])
        #expect(store.evaluationCount == base + 1)  // v: 2 is skipped by its filter
        #expect(one.calls.count == 1 && oneAgain.calls.count == 1 && two.calls.isEmpty)
        _ = try store.insert(bucket: "x", record: ["v": 2])
        #expect(store.evaluationCount == base + 2)
        #expect(two.calls.first?.arrayValue?.first?["v"] == 2 && one.calls.count == 1)
    }

    @Test func unchangedResultsAreNotPushedWhenOthersChange() throws {
        let store = try store()
        try store.defineQuery("firstOne", config: ["bucket": "x", "first": 1])
        let early = Recorder(), late = Recorder()
        _ = try store.subscribe(query: "firstOne", listener: early.listener)
        _ = try store.insert(bucket: "x", record: ["v": 1])
        #expect(early.calls.count == 1)
        _ = try store.subscribe(query: "firstOne", listener: late.listener)
        // Their last results come from different evaluations but are equal; neither changes.
        _ = try store.insert(bucket: "x", record: ["v": 2])
        #expect(early.calls.count == 1 && late.calls.isEmpty)
        _ = try store.update(bucket: "x", key: 1, changes: ["v": 3])
        #expect(early.calls.count == 2 && late.calls.count == 1)
        #expect(early.calls.last == late.calls.last)
        #expect(late.calls.last?.arrayValue?.first?["v"] == 3)
    }

    @Test func aListenerMutationInvalidatesTheSharedResult() throws {
        let store = try store()
        var inserted = false
        var a: [Int] = [], b: [Int] = []
        _ = try store.subscribe(query: "xs") { r in
            a.append(r.arrayValue!.count)
            if !inserted {
                inserted = true
                _ = try? store.insert(bucket: "x", record: ["v": 9])
            }
        }
        _ = try store.subscribe(query: "xs") { r in b.append(r.arrayValue!.count) }
        _ = try store.insert(bucket: "x", record: ["v": 1])
        // b is evaluated after a's nested insert, so it sees both records at once, as it would
        // without sharing; a catches up in the queued batch.
        #expect(a == [1, 2])
        #expect(b == [2])
    }

    /// A dispatch visits subscriptions in id order; close ids are ordered through a table over
    /// their range, spread ones by sorting: both give the sorted ids.
    @Test func affectedIdsComeInAscendingOrderWhetherCloseOrSpread() {
        var rng = SeededRandom(seed: 5)
        for trial in 0..<200 {
            let count = 1 + Int(rng.next() % 300)
            let spread = trial % 3 == 0 ? 1_000_000 : (trial % 3 == 1 ? count * 2 : count * 5)
            let base = Int(rng.next() % 1000)
            var ids = Set<SubscriptionID>()
            for _ in 0..<count { ids.insert(base + Int(rng.next() % UInt64(spread))) }
            #expect(Store.ascending(ids) == ids.sorted(), "trial \(trial)")
        }
        #expect(Store.ascending([7]) == [7])
        #expect(Store.ascending([Int.max - 1, 0, 3]) == [0, 3, Int.max - 1])
    }
}
