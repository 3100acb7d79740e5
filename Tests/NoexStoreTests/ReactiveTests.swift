import NoexJSON
import Testing

@testable import NoexStore

/// Notification order: per mutation, event listeners first (event order, then registration
/// order), then affected subscriptions once each in creation order; mutations made from a
/// listener are dispatched after the current batch.
@Suite struct ReactiveTests {
    func store2() throws -> Store {
        let store = makeStore()
        let def: JSONObject = ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"], "v": ["type": "number"]]]
        try store.defineBucket("x", config: def)
        try store.defineBucket("y", config: def)
        try store.defineQuery("xs", config: ["bucket": "x"])
        try store.defineQuery("ys", config: ["bucket": "y"])
        try store.defineQuery("xCount", config: ["bucket": "x", "aggregate": ["fn": "count"]])
        return store
    }

    @Test func listenersThenSubscriptionsInCreationOrder() throws {
        let store = try store2()
        var log: [String] = []
        _ = try store.subscribe(query: "xCount") { _ in log.append("count") }
        _ = try store.subscribe(query: "xs") { _ in log.append("xs") }
        store.addEventListener { log.append("L1:\($0.topic)") }
        store.addEventListener(pattern: "*") { log.append("L2:\($0.type)") }
        _ = try store.insert(bucket: "x", record: ["v": 1])
        #expect(log == ["L1:bucket.x.inserted", "L2:inserted", "count", "xs"])
    }

    @Test func nestedMutationsAreQueued() throws {
        let store = try store2()
        var log: [String] = []
        _ = try store.subscribe(query: "ys") { r in log.append("ys:\(r.arrayValue!.count)") }
        _ = try store.subscribe(query: "xs") { r in log.append("xs:\(r.arrayValue!.count)") }
        store.addEventListener(pattern: "bucket.x.inserted") { _ in
            log.append("L:x")
            _ = try? store.insert(bucket: "y", record: ["v": 2])
            log.append("L:x done")
        }
        store.addEventListener(pattern: "bucket.y.*") { _ in log.append("L:y") }
        _ = try store.insert(bucket: "x", record: ["v": 1])
        #expect(log == ["L:x", "L:x done", "xs:1", "L:y", "ys:1"])
        #expect(try store.count(bucket: "y") == 1)
    }

    @Test func oneCallbackPerMutationEvenWithManyEvents() throws {
        let store = try store2()
        let rec = Recorder()
        _ = try store.subscribe(query: "xs", listener: rec.listener)
        for v in 0..<3 { _ = try store.insert(bucket: "x", record: ["v": .int(Int64(v))]) }
        #expect(rec.calls.count == 3)
        try store.clear(bucket: "x")  // three deleted events, one batch
        #expect(rec.calls.count == 4 && rec.calls.last == [])
        try store.clear(bucket: "x")  // nothing to clear: no event, no callback
        #expect(rec.calls.count == 4)
        // failed mutations notify nobody
        var events = 0
        store.addEventListener { _ in events += 1 }
        _ = catchError { _ = try store.update(bucket: "x", key: 99, changes: [:]) }
        #expect(events == 0 && rec.calls.count == 4)
    }

    @Test func listenerMayUnsubscribeOthers() throws {
        let store = try store2()
        var second: SubscriptionID = 0
        var log: [String] = []
        _ = try store.subscribe(query: "xs") { _ in
            log.append("first")
            store.unsubscribe(second)
        }
        second = try store.subscribe(query: "xs") { _ in log.append("second") }.id
        _ = try store.insert(bucket: "x", record: ["v": 1])
        #expect(log == ["first"])
        #expect(store.subscriptionCount == 1)
    }

    @Test func clearNotifiesListenersWithDeletedEvents() throws {
        let store = try store2()
        _ = try store.insert(bucket: "x", record: ["v": 1])
        _ = try store.insert(bucket: "x", record: ["v": 2])
        var keys: [JSON] = []
        store.addEventListener(pattern: "bucket.x.deleted") { keys.append($0.key) }
        try store.clear(bucket: "x")
        #expect(keys == [1, 2])
        // the counter survives clear
        #expect(try store.insert(bucket: "x", record: [:])["id"] == 3)
    }

    @Test func recordDependencyFollowsKeyOnly() throws {
        let store = try store2()
        _ = try store.insert(bucket: "x", record: ["v": 1])
        try store.defineQuery("one", config: ["bucket": "x", "get": ["$param": "id"]])
        var evaluations = 0
        try store.defineQuery("counted") { (ctx, p) throws(StoreError) -> JSON in
            evaluations += 1
            return try ctx.get(bucket: "x", key: p?["id"] ?? .null).map(JSON.object) ?? .null
        }
        let rec = Recorder()
        _ = try store.subscribe(query: "counted", params: ["id": 5], listener: rec.listener)
        for _ in 0..<3 { _ = try store.insert(bucket: "x", record: [:]) }  // ids 2, 3, 4
        #expect(evaluations == 1)
        let five = try store.insert(bucket: "x", record: [:])  // id 5
        #expect(evaluations == 2 && rec.calls == [.object(five)])
        try store.delete(bucket: "x", key: 5)
        #expect(rec.calls.last == .null)
    }

    @Test func subscribeInsideListener() throws {
        let store = try store2()
        var inner: [JSON] = []
        var subscribed = false
        store.addEventListener { _ in
            guard !subscribed else { return }
            subscribed = true
            _ = try? store.subscribe(query: "xCount") { inner.append($0) }
        }
        _ = try store.insert(bucket: "x", record: [:])
        #expect(inner.isEmpty)  // initial result is not delivered
        _ = try store.insert(bucket: "x", record: [:])
        #expect(inner == [2])
    }

    @Test func changesOutsideTheFilterSkipReevaluation() throws {
        let store = makeStore()
        try store.defineBucket("customers", config: Fixture.customers)
        try store.defineQuery("vips", config: ["bucket": "customers", "filter": ["tier": "{{ params.tier }}"], "sort": ["name": "desc"]])
        try store.defineQuery("firstTwo", config: ["bucket": "customers", "first": 2])
        let vips = Recorder(), firstTwo = Recorder()
        _ = try store.subscribe(query: "vips", params: ["tier": "vip"], listener: vips.listener)
        _ = try store.subscribe(query: "firstTwo", listener: firstTwo.listener)
        let base = store.evaluationCount
        let a = try store.insert(bucket: "customers", record: ["name": "A"])  // basic: vips skipped, firstTwo runs
        #expect(store.evaluationCount == base + 1)
        _ = try store.update(bucket: "customers", key: a["id"]!, changes: ["name": "A2"])  // basic -> basic
        #expect(store.evaluationCount == base + 2)
        _ = try store.update(bucket: "customers", key: a["id"]!, changes: ["tier": "vip"])  // new matches
        #expect(store.evaluationCount == base + 4)
        #expect(vips.calls.count == 1 && firstTwo.calls.count == 3)
        _ = try store.update(bucket: "customers", key: a["id"]!, changes: ["tier": "basic"])  // old matches
        #expect(vips.calls.last == [] && firstTwo.calls.count == 4)
        try store.delete(bucket: "customers", key: a["id"]!)  // deleting a basic record: vips skipped
        #expect(store.evaluationCount == base + 7)
        #expect(vips.calls.count == 2)
    }
}
