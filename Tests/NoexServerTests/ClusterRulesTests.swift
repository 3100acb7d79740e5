import Foundation
import NoexJSON
import RedisTestSupport
import Testing
@testable import NoexServer

/// The rule engine through the cluster's log (docs/cluster.md#rule-engine-inputs): three
/// `noex-server` processes over a real `redis-server`, real WebSocket clients. Inputs on one node
/// change every node's engine identically (ids, versions, timestamps); timers fire once,
/// through the lease holder; a restarted or new node ends with the same engine state.
@Suite(.serialized, .enabled(if: RedisServer.binary != nil, Comment(rawValue: RedisServer.missing)))
struct ClusterRulesTests {
    typealias W = WireRules

    /// What a node's engine holds: every fact, every rule (version, timestamps, enabled) and the
    /// number of pending timers, as exact answer texts.
    static func rulesDigest(_ c: WireStoreClient) -> String {
        let facts = c.askRaw(["id": 0, "type": "rules.getAllFacts"]) ?? "no answer"
        let list = WireStoreClient.parse(c.askRaw(["id": 0, "type": "rules.getRules"]))["data"]?["rules"]?.arrayValue ?? []
        let rules = list.compactMap { $0["id"]?.stringValue }.map {
            c.askRaw(["id": 0, "type": "rules.getRule", "ruleId": .string($0)]) ?? "no answer"
        }
        let timers = WireStoreClient.parse(c.askRaw(["id": 0, "type": "rules.stats"]))["data"]?["timersCount"]?.jsonString ?? "?"
        return ([facts] + rules + ["timers: \(timers)"]).joined(separator: "\n")
    }

    static func subscribe(_ c: WireStoreClient, _ pattern: String) -> String {
        c.data(["type": "rules.subscribe", "pattern": .string(pattern)])["subscriptionId"]?.stringValue ?? "?"
    }

    @Test func anEventEmittedOnOneNodeReachesSubscribersOnTheOthers() throws {
        let f = try ClusterFixture(nodes: 3)
        defer { f.shutdown() }
        let a = try WireStoreClient(port: f.nodes[0].port)
        let b = try WireStoreClient(port: f.nodes[1].port)
        let c = try WireStoreClient(port: f.nodes[2].port)
        let subA = Self.subscribe(a, "order.*")
        let subC = Self.subscribe(c, "order.*")
        let answer = b.ask(["type": "rules.emit", "topic": "order.created", "data": ["orderId": "o1"], "correlationId": "k1"])
        #expect(answer["type"] == "result", "\(answer.jsonString)")
        let event = try #require(answer["data"])
        #expect(event["topic"] == "order.created" && event["source"] == "api" && event["correlationId"] == "k1")
        for (client, sub) in [(a, subA), (c, subC)] {
            let push = try #require(client.nextPush(timeoutMs: 5000), "no event push")
            // The same event everywhere: id and timestamp were decided by the entry.
            #expect(push.jsonString == JSON.object(["type": "push", "channel": "event", "subscriptionId": .string(sub),
                                                    "data": ["topic": "order.created", "event": event]]).jsonString)
        }
        // A request the single server refuses is refused the same way, before it reaches the log.
        #expect(b.askRaw(["id": 5, "type": "rules.emit", "topic": "x", "data": 3])
                == wireError(5, "VALIDATION_ERROR", "Invalid \"data\": expected object"))
    }

    @Test func factsAndRulesAreEqualOnEveryNode() throws {
        let f = try ClusterFixture(nodes: 3)
        defer { f.shutdown() }
        let clients = try f.nodes.map { try WireStoreClient(port: $0.port) }
        let (a, b, c) = (clients[0], clients[1], clients[2])
        let fact = a.data(["type": "rules.setFact", "key": "user:1:tier", "value": "gold"])
        #expect(fact["version"] == 1 && fact["source"] == "api")
        // Read on C: the whole fact (version, timestamp, source) as A answered it.
        let deadline = Date().addingTimeInterval(5)
        var onC = JSON.null
        repeat {
            onC = c.data(["type": "rules.queryFacts", "pattern": "user:1:tier"])
            if onC.arrayValue?.isEmpty != false { usleep(20_000) }
        } while onC.arrayValue?.isEmpty != false && Date() < deadline
        #expect(onC == .array([fact]))
        #expect(c.data(["type": "rules.getFact", "key": "user:1:tier"]) == "gold")

        // A rule registered on B fires on every node for an event emitted on C.
        let rule = W.onEvent("count", "order.created", actions: [W.setFact("seen:${event.orderId}", W.ref("event.orderId"))])
        let registered = b.data(["type": "rules.registerRule", "rule": rule])
        #expect(registered["id"] == "count" && registered["version"] == 1)
        #expect(c.data(["type": "rules.emit", "topic": "order.created", "data": ["orderId": "o7"]])["topic"] == "order.created")
        #expect(a.data(["type": "rules.updateRule", "ruleId": "count", "updates": ["priority": 5]])["id"] == "count")
        #expect(b.data(["type": "rules.disableRule", "ruleId": "count"]) == ["ruleId": "count", "enabled": false])
        #expect(c.data(["type": "rules.deleteFact", "key": "user:1:tier"]) == ["deleted": true])
        // Errors decided by the engine at the entry's position: the single server's bytes.
        #expect(a.askRaw(["id": 9, "type": "rules.enableRule", "ruleId": "nope"]) == wireError(9, "NOT_FOUND", "Rule \"nope\" not found"))
        let digests = ClusterFixture.converge(clients, digest: Self.rulesDigest)
        #expect(Set(digests).count == 1, "nodes differ:\n\(digests.joined(separator: "\n---\n"))")
        let facts = WireStoreClient.parse(digests[0].components(separatedBy: "\n")[0])["data"]?.arrayValue ?? []
        #expect(facts.count == 1 && facts.first?["key"] == "seen:o7" && facts.first?["source"] == "rule", "\(facts)")
        #expect(digests[0].contains(#""enabled":false"#) && digests[0].contains(#""priority":5"#))
    }

    @Test func aTimerFiresOnceClusterWide() throws {
        let f = try ClusterFixture(nodes: 3)
        defer { f.shutdown() }
        let clients = try f.nodes.map { try WireStoreClient(port: $0.port) }
        for c in clients { _ = Self.subscribe(c, "t.expired") }
        clients[0].data(["type": "rules.registerRule", "rule": W.onEvent("arm", "t.arm", actions: [[
            "type": "set_timer",
            "timer": ["name": "once", "duration": "300ms", "onExpire": ["topic": "t.expired", "data": ["n": 1]]],
        ]])])
        #expect(clients[1].data(["type": "rules.emit", "topic": "t.arm"])["topic"] == "t.arm")
        var ids: [JSON] = []
        for c in clients {
            let push = try #require(c.nextPush(timeoutMs: 8000), "the timer did not fire on every node")
            #expect(push["data"]?["event"]?["source"] == "timer")
            ids.append(push["data"]?["event"]?["id"] ?? .null)
        }
        #expect(Set(ids.map(\.jsonString)).count == 1, "event ids differ: \(ids)")
        // Once: no node sees a second expiry.
        for c in clients { #expect(c.noPush(withinMs: 700)) }
        for c in clients { #expect(c.data(["type": "rules.stats"])["timersCount"] == 0) }
    }

    /// Whichever node held the lease, the survivor takes it over and fires the overdue timer.
    @Test func whenTheOtherNodesDieTheSurvivorFiresTheTimer() throws {
        let f = try ClusterFixture(nodes: 3)
        defer { f.shutdown() }
        let a = try WireStoreClient(port: f.nodes[0].port)
        let c = try WireStoreClient(port: f.nodes[2].port)
        _ = Self.subscribe(c, "t.expired")
        a.data(["type": "rules.registerRule", "rule": W.onEvent("arm", "t.arm", actions: [[
            "type": "set_timer", "timer": ["name": "t", "duration": "500ms", "onExpire": ["topic": "t.expired", "data": [:]]],
        ]])])
        #expect(a.data(["type": "rules.emit", "topic": "t.arm"])["topic"] == "t.arm")
        f.nodes[0].kill()
        f.nodes[1].kill()
        // The lease of a dead holder lapses after 3 s; the survivor's next tick takes it.
        let push = c.nextPush(timeoutMs: 10_000)
        #expect(push?["data"]?["event"]?["topic"] == "t.expired", "\(push?.jsonString ?? "no push")")
        #expect(c.noPush(withinMs: 500))
        #expect(c.data(["type": "rules.stats"])["timersCount"] == 0)
    }

    @Test func aKilledNodeRestartsAndANewNodeBootstrapsWithTheSameEngine() throws {
        let config = ClusterFixture.config.replacingOccurrences(
            of: #""cluster": {"#, with: #""cluster": {"snapshotEveryEntries": 5, "positionIntervalMs": 200, "#)
        let f = try ClusterFixture(nodes: 2, config: config)
        defer { f.shutdown() }
        let db = f.dir.file("c.db")
        var c = try f.start(["--persistence", "sqlite", "--db", db])
        f.nodes.append(c)
        let a = try WireStoreClient(port: f.nodes[0].port)
        let b = try WireStoreClient(port: f.nodes[1].port)
        a.data(["type": "rules.registerRule", "rule": W.onEvent("count", "tick", actions: [W.setFact("tick:${event.n}", W.ref("event.n"))])])
        // A timer far in the future: it must survive in the engine state of every node.
        b.data(["type": "rules.registerRule", "rule": W.onEvent("later", "arm", actions: [[
            "type": "set_timer", "timer": ["name": "later", "duration": "1h", "onExpire": ["topic": "late", "data": [:]]],
        ]])])
        #expect(b.data(["type": "rules.emit", "topic": "arm"])["topic"] == "arm")
        for n in 0..<10 { #expect((n % 2 == 0 ? a : b).ask(["type": "rules.emit", "topic": "tick", "data": ["n": .int(Int64(n))]])["type"] == "result") }
        c.kill()
        for n in 10..<20 { #expect(a.ask(["type": "rules.setFact", "key": .string("k\(n)"), "value": .int(Int64(n))])["type"] == "result") }
        #expect(b.data(["type": "rules.updateRule", "ruleId": "count", "updates": ["name": "renamed"]])["id"] == "count")
        c = try f.start(["--persistence", "sqlite", "--db", db])
        f.nodes.append(c)
        let restarted = try WireStoreClient(port: c.port)
        var digests = ClusterFixture.converge([a, b, restarted], digest: Self.rulesDigest)
        #expect(Set(digests).count == 1, "nodes differ after the restart:\n\(digests.joined(separator: "\n---\n"))")
        #expect(digests[0].hasSuffix("timers: 1"))

        // The lease holder stored a snapshot that carries the engine; a new node loads it.
        let deadline = Date().addingTimeInterval(10)
        while f.lua("string.find(redis.call('GET', KEYS[1]) or '', '\"rules\":', 1, true) ~= nil", keys: [f.key("snapshot")]) != "true",
              Date() < deadline { usleep(100_000) }
        #expect(f.lua("string.find(redis.call('GET', KEYS[1]) or '', '\"rules\":', 1, true) ~= nil", keys: [f.key("snapshot")]) == "true")
        // With a new sqlite database: the snapshot's engine state is stored with it, so the node
        // still has it after a kill and restart.
        let fresh = f.dir.file("d.db")
        var d = try f.start(["--persistence", "sqlite", "--db", fresh])
        f.nodes.append(d)
        var onD = try WireStoreClient(port: d.port)
        digests = ClusterFixture.converge([a, b, restarted, onD], digest: Self.rulesDigest)
        #expect(Set(digests).count == 1, "the bootstrapped node differs:\n\(digests.joined(separator: "\n---\n"))")
        d.kill()
        d = try f.start(["--persistence", "sqlite", "--db", fresh])
        f.nodes.append(d)
        onD = try WireStoreClient(port: d.port)
        // A rule registered now takes its version from each node's counter: restored exactly.
        #expect(onD.data(["type": "rules.registerRule", "rule": W.onEvent("new", "x", actions: [W.emit("y")])])["version"] == 4)
        digests = ClusterFixture.converge([a, b, restarted, onD], digest: Self.rulesDigest)
        #expect(Set(digests).count == 1, "the bootstrapped node lost state in its restart:\n\(digests.joined(separator: "\n---\n"))")
        #expect(digests[0].hasSuffix("timers: 1"))
    }

    @Test func bridgedStoreEventsAreTheSameEventOnEveryNode() throws {
        let config = ClusterFixture.config.replacingOccurrences(of: #""cluster": {"#, with: #""bridgeStoreToRules": true, "cluster": {"#)
        let f = try ClusterFixture(nodes: 3, config: config)
        defer { f.shutdown() }
        let clients = try f.nodes.map { try WireStoreClient(port: $0.port) }
        let subs = [Self.subscribe(clients[0], "bucket.items.*"), Self.subscribe(clients[2], "bucket.items.*")]
        #expect(clients[1].ask(["type": "store.insert", "bucket": "items", "data": ["sku": "p1", "name": "Pear"]])["type"] == "result")
        let events = try [clients[0], clients[2]].map { try #require($0.nextPush(timeoutMs: 5000), "no bridged event")["data"]?["event"] ?? .null }
        #expect(events[0]["topic"] == "bucket.items.inserted" && events[0]["id"]?.stringValue?.isEmpty == false)
        // Id and timestamp come from the entry's decisions, not from each node's clock and random.
        #expect(events[0] == events[1], "\(events[0].jsonString) vs \(events[1].jsonString) (\(subs))")
    }

    /// A procedure registered on A and called on B writes the store and the engine on every node.
    @Test func aProcedureCalledOnOneNodeWritesEveryNode() throws {
        let f = try ClusterFixture(nodes: 3)
        defer { f.shutdown() }
        let clients = try f.nodes.map { try WireStoreClient(port: $0.port) }
        #expect(clients[0].ask(["type": "procedures.register", "procedure": ClusterAnswerTests.addItem])["type"] == "result")
        _ = Self.subscribe(clients[2], "never")  // the engine on C is live
        let call = clients[1].ask(["type": "procedures.call", "name": "add-item", "input": ["sku": "p9"]])
        #expect(call["data"]?["success"] == true && call["data"]?["results"]?["n"] == 1, "\(call.jsonString)")
        let digests = ClusterFixture.converge(clients)
        #expect(Set(digests).count == 1 && digests[0].contains(#""sku":"p9""#), "\(digests)")
        let facts = ClusterFixture.converge(clients, digest: Self.rulesDigest)
        #expect(Set(facts).count == 1 && facts[0].contains(#""key":"added:p9""#))
        #expect(clients[2].data(["type": "procedures.list"])["procedures"]?.arrayValue?.count == 1)
    }

    @Test func rulesInputsFailCleanlyWhileRedisIsDown() throws {
        let f = try ClusterFixture(nodes: 2)
        defer { f.shutdown() }
        let a = try WireStoreClient(port: f.nodes[0].port)
        let b = try WireStoreClient(port: f.nodes[1].port)
        a.data(["type": "rules.setFact", "key": "k", "value": 1])
        _ = ClusterFixture.converge([a, b], digest: Self.rulesDigest)
        f.redis.kill()
        for request: JSONObject in [["type": "rules.emit", "topic": "t"], ["type": "rules.setFact", "key": "k", "value": 2]] {
            let failed = b.ask(request)
            #expect(failed["type"] == "error" && failed["code"] == "CLUSTER_UNAVAILABLE", "\(failed.jsonString)")
            #expect(failed["message"]?.stringValue?.hasPrefix("The cluster log is unavailable: ") == true)
        }
        #expect(b.data(["type": "rules.getFact", "key": "k"]) == 1)
        #expect(a.data(["type": "rules.getFact", "key": "k"]) == 1)
    }
}
