import Foundation
import NoexJSON
import NoexStore
import Testing
@testable import NoexServer

/// `store.subscribe` with `"delta": true` (docs/protocol/store-operations.md#delta-subscriptions)
/// over real sockets: the exact shapes, a randomized comparison against full-result
/// subscriptions, and a slow subscriber whose pushes are dropped and resynced.
@Suite struct WireDeltaSubscriptionTests {
    private func start(_ tweak: @escaping @Sendable (inout ServerConfig) -> Void = { _ in }) -> ServerThread {
        ServerThread {
            var config = ServerConfig(store: deltaStoreFixture())
            tweak(&config)
            return config
        }
    }

    @Test func pushShapes() throws {
        let server = start()
        defer { server.stop() }
        let a = try WireStoreClient(server)
        let w = try WireStoreClient(server)
        #expect(a.askRaw(["id": 1, "type": "store.subscribe", "query": "all-items", "delta": true])
                == #"{"id":1,"type":"result","data":{"subscriptionId":"sub-1","data":[],"seq":0}}"#)
        // The first record: the ops would carry as much as the result, so the value comes whole.
        _ = w.data(["type": "store.insert", "bucket": "items", "data": ["sku": "a1", "name": "Apple", "qty": 1]])
        var push = try #require(a.nextPush())
        #expect(push.objectValue?.keys == ["type", "channel", "subscriptionId", "data"])
        #expect(push["channel"] == "subscription" && push["subscriptionId"] == "sub-1")
        #expect(push["data"]?.stableDelta == ["delta": ["base": 0, "seq": 1, "value": [wireItem("a1", "Apple", qty: 1)]]])
        #expect(push["data"]?["delta"]?.objectValue?.keys == ["base", "seq", "value"])

        _ = w.data(["type": "store.insert", "bucket": "items", "data": ["sku": "b2", "name": "Banana"]])
        push = try #require(a.nextPush())
        #expect(push["data"]?.stableDelta == ["delta": ["base": 1, "seq": 2, "ops": [
            ["op": "insert", "index": 1, "record": wireItem("b2", "Banana")],
        ]]])
        #expect(push["data"]?["delta"]?["ops"]?.arrayValue?.first?.objectValue?.keys == ["op", "index", "record"])

        _ = w.data(["type": "store.update", "bucket": "items", "key": "a1", "data": ["qty": 5]])
        push = try #require(a.nextPush())
        #expect(push["data"]?.stableDelta == ["delta": ["base": 2, "seq": 3, "ops": [
            ["op": "replace", "index": 0, "record": wireItem("a1", "Apple", qty: 5, version: 2)],
        ]]])

        _ = w.data(["type": "store.insert", "bucket": "items", "data": ["sku": "c3", "name": "Cherry"]])
        _ = a.nextPush()
        _ = w.data(["type": "store.delete", "bucket": "items", "key": "b2"])
        push = try #require(a.nextPush())
        #expect(push["data"] == ["delta": ["base": 4, "seq": 5, "ops": [["op": "remove", "index": 1]]]])

        // A scalar query: the value, numbered like every delta push.
        #expect(a.askRaw(["id": 2, "type": "store.subscribe", "query": "item-count", "delta": true])
                == #"{"id":2,"type":"result","data":{"subscriptionId":"sub-2","data":2,"seq":0}}"#)
        _ = w.data(["type": "store.delete", "bucket": "items", "key": "c3"])
        let pushes = [try #require(a.nextPush()), try #require(a.nextPush())]
        #expect(pushes.map { $0["subscriptionId"] } == ["sub-1", "sub-2"])
        #expect(pushes[1]["data"] == ["delta": ["base": 0, "seq": 1, "value": 1]])
        #expect(a.noPush())
    }

    @Test func fullResultSubscriptionsAreUnchanged() throws {
        let server = start()
        defer { server.stop() }
        let a = try WireStoreClient(server)
        let w = try WireStoreClient(server)
        #expect(a.askRaw(["id": 1, "type": "store.subscribe", "query": "item-count", "delta": false])
                == #"{"id":1,"type":"result","data":{"subscriptionId":"sub-1","data":0}}"#)
        #expect(a.askRaw(["id": 2, "type": "store.subscribe", "query": "item-count", "delta": .null])
                == #"{"id":2,"type":"result","data":{"subscriptionId":"sub-2","data":0}}"#)
        _ = w.data(["type": "store.insert", "bucket": "items", "data": ["sku": "a1", "name": "Apple"]])
        let raw = [a.ws.nextText(), a.ws.nextText()]
        #expect(raw == [#"{"type":"push","channel":"subscription","subscriptionId":"sub-1","data":1}"#,
                        #"{"type":"push","channel":"subscription","subscriptionId":"sub-2","data":1}"#])
    }

    @Test func deltaMustBeABoolean() throws {
        let server = start()
        defer { server.stop() }
        let a = try WireStoreClient(server)
        let message = "Invalid \"delta\": expected boolean (true for delta pushes, false or absent for full results)"
        for (n, bad) in [JSON.string("yes"), 1, [true], ["on": true]].enumerated() {
            let id = Int64(n + 1)
            #expect(a.askRaw(["id": .int(id), "type": "store.subscribe", "query": "all-items", "delta": bad])
                    == wireError(id, "VALIDATION_ERROR", message))
        }
        // Nothing was subscribed: the next subscription is the first.
        #expect(a.data(["type": "store.subscribe", "query": "all-items", "delta": true])["subscriptionId"] == "sub-1")
    }

    /// Seeded random writes — inserts, updates, deletes, clears and multi-record transactions —
    /// with one delta and one full-result subscription per query on two connections: after every
    /// write, each delta view equals the full result of the same query.
    @Test func deltasReproduceFullResults() throws {
        let server = start()
        defer { server.stop() }
        let deltas = try WireStoreClient(server)
        let fulls = try WireStoreClient(server)
        let writer = try WireStoreClient(server)
        let queries = ["all-items", "items-by-qty", "rich-items", "top-items", "item-count", "qty-sum", "item-names"]
        var views: [JSON: DeltaView] = [:]
        var full: [JSON: JSON] = [:]
        var fullID: [JSON: JSON] = [:]  // delta subscription id → full one
        for q in queries {
            let d = deltas.data(["type": "store.subscribe", "query": .string(q), "delta": true])
            let f = fulls.data(["type": "store.subscribe", "query": .string(q)])
            views[d["subscriptionId"]!] = DeltaView(initial: d["data"]!)
            full[f["subscriptionId"]!] = f["data"]!
            fullID[d["subscriptionId"]!] = f["subscriptionId"]!
        }
        let seed = FuzzRNG.seed(salt: 0xDE17A)
        var rng = FuzzRNG(seed: seed)
        let steps = 400
        for step in 0..<steps {
            let request = Self.randomWrite(&rng)
            #expect(writer.ask(request)["type"] != nil)
            // Barriers: every push of the write was written before these answers.
            _ = deltas.data(["type": "store.count", "bucket": "items"])
            _ = fulls.data(["type": "store.count", "bucket": "items"])
            for p in fulls.takePushes() { full[p["subscriptionId"]!] = p["data"]! }
            for p in deltas.takePushes() {
                let problem = views[p["subscriptionId"]!]!.apply(p["data"]!)
                #expect(problem == nil, "seed \(seed) step \(step)")
            }
            var mismatch: JSON?
            for (id, view) in views where view.result != full[fullID[id]!] { mismatch = id }
            #expect(mismatch == nil, "seed \(seed) step \(step): \(JSON.object(request).jsonString) — \(mismatch?.jsonString ?? "")")
            if mismatch != nil { break }
        }
        let all = views.values
        #expect(all.allSatisfy { $0.ignored == 0 && $0.resyncs == 0 })
        // Both forms were exercised: record operations and whole values.
        #expect(all.reduce(0) { $0 + $1.opPushes } > steps / 2)
        #expect(all.reduce(0) { $0 + $1.valuePushes } > steps / 4)
    }

    private static func randomWrite(_ rng: inout FuzzRNG) -> JSONObject {
        func sku() -> JSON { .string("s\(Int.random(in: 0..<12, using: &rng))") }
        func name() -> JSON { .string(["ann", "bob", "cy", "dee"].randomElement(using: &rng)!) }
        func qty() -> JSON { .int(Int64.random(in: 0..<10, using: &rng)) }
        func op() -> JSON {
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: return ["op": "insert", "bucket": "items", "data": ["sku": sku(), "name": name(), "qty": qty()]]
            case 1: return ["op": "update", "bucket": "items", "key": sku(), "data": ["qty": qty()]]
            default: return ["op": "delete", "bucket": "items", "key": sku()]
            }
        }
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<35: return ["type": "store.insert", "bucket": "items", "data": ["sku": sku(), "name": name(), "qty": qty()]]
        case 35..<60: return ["type": "store.update", "bucket": "items", "key": sku(), "data": ["qty": qty(), "name": name()]]
        case 60..<78: return ["type": "store.delete", "bucket": "items", "key": sku()]
        case 78..<80: return ["type": "store.clear", "bucket": "items"]
        default: return ["type": "store.transaction", "operations": .array((0..<Int.random(in: 2...4, using: &rng)).map { _ in op() })]
        }
    }

    /// A subscriber that stops reading: its delta pushes are dropped at the hard write limit,
    /// then nothing more is queued for it; once it reads again and the queue drains, one resync
    /// brings it to the current result.
    @Test func slowSubscriberIsResynced() throws {
        let server = start { $0.backpressure = BackpressureConfig(maxBufferedBytes: 256 << 10, slowClientTimeoutMs: 120_000) }
        defer { server.stop() }
        let slow = try WireStoreClient(server)
        let writer = try WireStoreClient(server)
        for sku in ["a", "b", "c"] {
            _ = writer.data(["type": "store.insert", "bucket": "items", "data": ["sku": .string(sku), "name": "x"]])
        }
        let answer = slow.data(["type": "store.subscribe", "query": "all-items", "delta": true])
        var view = DeltaView(initial: try #require(answer["data"]))
        // 48 KiB names that differ each time: every update is one `replace` of that size.
        var updates = 0
        var dropped = 0.0
        while dropped == 0 && updates < 4000 {
            for _ in 0..<50 {
                updates += 1
                let big = String(repeating: "\(updates % 10)", count: 48 << 10)
                #expect(writer.ask(["type": "store.update", "bucket": "items", "key": "b", "data": ["name": .string(big)]])["type"] == "result")
            }
            let metrics = try Exposition(parsing: try #require(curl(port: server.port, "/metrics")).body)
            dropped = metrics["noex_pushes_dropped_total"]
        }
        #expect(dropped > 0, "no push was dropped after \(updates) updates")
        // While the stream waits for its resync, further changes queue nothing for it.
        for n in 0..<20 {
            _ = writer.data(["type": "store.update", "bucket": "items", "key": "c", "data": ["qty": .int(Int64(n))]])
        }
        let droppedAfter = try Exposition(parsing: try #require(curl(port: server.port, "/metrics")).body)["noex_pushes_dropped_total"]
        #expect(droppedAfter == dropped)

        var received = 0
        while view.resyncs == 0, let p = slow.nextPush(timeoutMs: 10_000) {
            received += 1
            #expect(view.apply(try #require(p["data"])) == nil)
        }
        #expect(view.resyncs == 1)
        #expect(received < updates + 20)
        _ = slow.data(["type": "store.count", "bucket": "items"])
        for p in slow.takePushes() { #expect(view.apply(try #require(p["data"])) == nil) }
        #expect(view.result == writer.data(["type": "store.all", "bucket": "items"]))
        // The stream goes on with deltas from the resync's number.
        let seq = view.seq
        _ = writer.data(["type": "store.update", "bucket": "items", "key": "a", "data": ["qty": 7]])
        let next = try #require(slow.nextPush())
        #expect(next["data"]?["delta"]?["base"]?.intValue == seq)
        #expect(view.apply(next["data"]!) == nil)
        #expect(view.result == writer.data(["type": "store.all", "bucket": "items"]))
    }
}

/// The delta machinery inside the protocol core (fake transport): one diff per evaluation, and
/// the drop → wait → resync cycle step by step.
@Suite struct DeltaSubscriptionCoreTests {
    @Test func oneDiffPerEvaluationForAllSubscribers() throws {
        let h = Harness()
        let clients = (0..<3).map { _ in h.connect() }
        for c in clients {
            #expect(c.data(["id": 1, "type": "store.subscribe", "query": "all-users", "delta": true])["seq"] == 0)
            _ = c.take()
        }
        _ = try h.store.insert(bucket: "users", record: ["id": "u1", "name": "Ann"])
        _ = try h.store.insert(bucket: "users", record: ["id": "u2", "name": "Bob"])
        let before = h.core.deltaStreams.diffsComputed
        _ = try h.store.insert(bucket: "users", record: ["id": "u3", "name": "Cy"])
        #expect(h.core.deltaStreams.diffsComputed == before + 1)
        let last = clients.map { $0.pushes().last?["data"] }
        #expect(last[0]?["delta"]?["ops"]?.arrayValue?.count == 1)
        #expect(last[0]?["delta"]?["seq"] == 3)
        #expect(Set(last.map { $0?.jsonString ?? "" }).count == 1)
    }

    @Test func droppedPushWaitsForOneResync() throws {
        let h = Harness()
        let c = h.connect()
        #expect(c.data(["id": 1, "type": "store.subscribe", "query": "all-users", "delta": true])["subscriptionId"] == "sub-1")
        _ = try h.store.insert(bucket: "users", record: ["id": "u1", "name": "Ann"])
        _ = try h.store.insert(bucket: "users", record: ["id": "u2", "name": "Bob"])
        #expect(c.pushes().count == 2)

        h.transport.droppingPushes.insert(c.id)
        let sent = h.core.pushesSent
        _ = try h.store.insert(bucket: "users", record: ["id": "u3", "name": "Cy"])  // seq 3, dropped
        #expect(h.core.pushesSent == sent + 1)
        #expect(h.core.deltaStreams.streams[1]?.awaitingResync == true)
        _ = try h.store.update(bucket: "users", key: "u1", changes: ["age": 30])
        #expect(h.core.pushesSent == sent + 1)  // nothing queued while waiting
        h.transport.droppingPushes.remove(c.id)

        // The transport reports the dropped key once the queue has drained.
        h.core.resendStalePushes(c.id, keys: [DeltaPushKey.make(subscription: 1, seq: 3)])
        let resync = c.pushes()
        #expect(resync.count == 1)
        #expect(resync.first?["data"]?.objectValue?.keys == ["resync"])
        #expect(resync.first?["data"]?["resync"]?["seq"] == 4)
        #expect(resync.first?["data"]?["resync"]?["value"] == .array(try h.store.all(bucket: "users").map(JSON.object)))

        _ = try h.store.delete(bucket: "users", key: "u2")
        #expect(c.pushes().first?["data"] == ["delta": ["base": 4, "seq": 5, "ops": [["op": "remove", "index": 1]]]])

        // Unsubscribing forgets the stream.
        #expect(c.data(["id": 2, "type": "store.unsubscribe", "subscriptionId": "sub-1"])["unsubscribed"] == true)
        #expect(h.core.deltaStreams.streams.isEmpty)
    }
}
