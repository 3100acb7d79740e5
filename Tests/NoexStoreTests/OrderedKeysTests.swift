import NoexJSON
import Testing

@testable import NoexStore

/// An `ordered_set` bucket's key order (`OrderedKeys`), kept in sorted runs that split and
/// empty as keys come and go, against sorting every key (what it replaced).
@Suite struct OrderedKeysTests {
    /// The old answer: all keys sorted, the cursor found by strict equality.
    private static func page(_ sorted: [JSON], after: JSON?, limit: Int) -> (keys: [JSON], hasMore: Bool) {
        var start = 0
        if let after {
            if let i = sorted.firstIndex(where: { JSValue.strictEquals($0, after) }) { start = i + 1 } else { start = sorted.count }
        }
        let lim = Swift.min(Swift.max(0, limit), sorted.count)
        let end = Swift.min(sorted.count, start + lim)
        return (start < end ? Array(sorted[start..<end]) : [], start + lim < sorted.count)
    }

    @Test(arguments: ["strings", "numbers"])
    func matchesSortingEveryKey(kind: String) {
        var rng = SeededRandom(seed: kind == "strings" ? 31 : 32)
        let spellings = ["a", "A", "b", "B", "é", "É", "z", "Z", "K", "k", "_", "1", "10", "9"]
        func randomKey() -> JSON {
            if kind == "numbers" {
                return Bool.random(using: &rng) ? .int(Int64.random(in: -3000...3000, using: &rng))
                    : .double(Double(Int.random(in: -3000...3000, using: &rng)) + 0.5)
            }
            let n = Int.random(in: 1...3, using: &rng)
            return .string((0..<n).map { _ in spellings[Int.random(in: 0..<spellings.count, using: &rng)] }.joined())
        }
        var order = OrderedKeys([JSON]())
        var live: [JSON] = []
        var members = Set<JSON>()
        for step in 0..<12_000 {
            let key = randomKey()
            // Growing for two thirds of the steps (runs split), then shrinking (runs empty).
            if members.contains(key) || (step > 8000 && !live.isEmpty && Bool.random(using: &rng)) {
                let gone = members.contains(key) ? key : live[Int.random(in: 0..<live.count, using: &rng)]
                order.remove(gone)
                members.remove(gone)
                live.removeAll { $0 == gone }
            } else {
                order.insert(key)
                members.insert(key)
                live.append(key)
            }
            #expect(order.count == live.count)
            if step % 400 == 0 || step == 11_999 {
                let sorted = live.map(OrderedSetKey.init).sorted(by: <).map(\.key)
                #expect(OrderedKeys(live).first(live.count) == sorted)  // built at once, too
                #expect(order.first(live.count + 5) == sorted)
                for n in [0, 1, 7, 1500] {
                    #expect(order.first(n) == Array(sorted.prefix(n)))
                    #expect(order.last(n) == Array(sorted.suffix(n)))
                }
                var cursors: [JSON?] = [nil, randomKey(), .null, .object([:])]
                if !sorted.isEmpty {
                    cursors += [sorted[0], sorted[sorted.count / 2], sorted[sorted.count - 1]]
                }
                for after in cursors {
                    for limit in [-1, 0, 3, 1100, Int.max] {
                        let got = order.page(after: after, limit: limit)
                        let want = Self.page(sorted, after: after, limit: limit)
                        #expect(got.keys == want.keys && got.hasMore == want.hasMore, "after \(String(describing: after)), limit \(limit)")
                    }
                }
            }
        }
    }

    /// Through the store: a client paging an `ordered_set` bucket while it changes sees key
    /// order, and `first`/`last` follow inserts and deletes once the order is made.
    @Test func storeKeepsTheOrderAcrossChanges() throws {
        let store = makeStore()
        try store.defineBucket("ranked", config: [
            "key": "name", "etsType": "ordered_set", "schema": ["name": ["type": "string"], "n": ["type": "number"]],
        ])
        for name in ["delta", "Alpha", "charlie", "bravo"] { _ = try store.insert(bucket: "ranked", record: ["name": .string(name)]) }
        func names(_ records: [JSONObject]) -> [String] { records.map { $0["name"]!.stringValue! } }
        #expect(names(try store.first(bucket: "ranked", n: 2)) == ["Alpha", "bravo"])
        _ = try store.insert(bucket: "ranked", record: ["name": "alpha"])
        _ = try store.delete(bucket: "ranked", key: "bravo")
        #expect(names(try store.first(bucket: "ranked", n: 3)) == ["alpha", "Alpha", "charlie"])
        #expect(names(try store.last(bucket: "ranked", n: 1)) == ["delta"])
        let page = try store.paginate(bucket: "ranked", after: "Alpha", limit: 1)
        #expect(names(page.records) == ["charlie"] && page.hasMore && page.nextCursor == "charlie")
        _ = try store.update(bucket: "ranked", key: "charlie", changes: ["n": 1])
        #expect(names(try store.paginate(bucket: "ranked", after: "charlie", limit: 5).records) == ["delta"])
    }

    /// The order is kept from the bucket's start, never made by a query (that sorted every key
    /// on the loop): after inserts, a load of stored records (sorted once after it), a clear
    /// and a redefinition; and it is the order a query answers in.
    @Test func anOrderedSetBucketKeepsItsOrderFromItsStart() throws {
        let store = makeStore()
        let config: JSONObject = [
            "key": "name", "etsType": "ordered_set", "schema": ["name": ["type": "string"], "n": ["type": "number"]],
        ]
        try store.defineBucket("ranked", config: config)
        try store.defineBucket("plain", config: ["key": "name", "schema": ["name": ["type": "string"]]])
        let ranked = store.buckets["ranked"]!
        #expect(ranked.keepsKeyOrder)
        #expect(!store.buckets["plain"]!.keepsKeyOrder)
        _ = try store.insert(bucket: "ranked", record: ["name": "m"])
        #expect(ranked.keepsKeyOrder)
        var rng = SeededRandom(seed: 5)
        let names = (0..<2_000).map { _ in String((0..<6).map { _ in "aBcDeFgH".randomElement(using: &rng)! }) }
        let loaded = Array(Set(names).subtracting(["m"]))
        #expect(store.loadRecords(bucket: "ranked", loaded.map { (key: JSON.string($0), record: ["name": .string($0)]) }).isEmpty)
        #expect(ranked.keepsKeyOrder)
        let expected = OrderedKeys((loaded + ["m"]).map { JSON.string($0) })
        let all = try store.first(bucket: "ranked", n: loaded.count + 1).map { $0["name"]! }
        #expect(all == expected.page(after: nil, limit: loaded.count + 1).keys)
        try store.clear(bucket: "ranked")
        #expect(ranked.keepsKeyOrder)
        _ = try store.insert(bucket: "ranked", record: ["name": "b"])
        _ = try store.insert(bucket: "ranked", record: ["name": "A"])
        try store.updateBucket("ranked", updates: ["schema": ["name": ["type": "string"], "n": ["type": "number"], "x": ["type": "string"]]])
        #expect(store.buckets["ranked"]!.keepsKeyOrder)
        #expect(try store.first(bucket: "ranked", n: 2).map { $0["name"]! } == ["A", "b"])
    }
}
