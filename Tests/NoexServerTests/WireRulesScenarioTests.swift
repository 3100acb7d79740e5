import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// The original's 25 rules scenarios, replayed over real sockets against a real NoexServer
/// (127.0.0.1, port 0): exact answer frames, push envelopes, and the order of pushes and
/// answers (docs/protocol/envelope.md: an emit's pushes are written before its result).
@Suite(.serialized) struct WireRulesScenarioTests {
    typealias W = WireRules

    /// The event a rules.emit result should carry, with the server-generated id and timestamp.
    private func apiEvent(like actual: JSON, _ topic: String, _ data: JSON) -> JSON {
        ["id": actual["id"] ?? .null, "topic": .string(topic), "data": data, "timestamp": actual["timestamp"] ?? .null, "source": "api"]
    }

    @Test func s01_emitReturnsTheEvent() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        let raw = c.call("rules.emit", ["topic": "order.created", "data": ["orderId": "123", "total": 99]])
        let ev = W.parse(raw)["data"] ?? .null
        #expect(ev["id"]?.stringValue?.isEmpty == false)
        #expect(ev["timestamp"]?.intValue != nil)
        let expected: JSON = ["id": 1, "type": "result", "data": apiEvent(like: ev, "order.created", ["orderId": "123", "total": 99])]
        #expect(raw == expected.jsonString)  // exact bytes: key order, no correlationId key
        #expect(ev["correlationId"] == nil)
    }

    @Test func s02_emitDefaultsAndValidation() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        #expect(c.data("rules.emit", ["topic": "x"])["data"] == [:])
        #expect(c.data("rules.emit", ["topic": "x", "data": .null])["data"] == [:])
        c.expectError("rules.emit", ["topic": "x", "data": [1]], code: "VALIDATION_ERROR", message: "Invalid \"data\": expected object")
        let missing = "Missing or invalid \"topic\": expected non-empty string"
        c.expectError("rules.emit", ["data": [:]], code: "VALIDATION_ERROR", message: missing)
        c.expectError("rules.emit", ["topic": ""], code: "VALIDATION_ERROR", message: missing)
    }

    @Test func s03_correlatedEmit() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        let corr = c.data("rules.emit", ["topic": "x", "correlationId": "corr-001"])
        #expect(corr["correlationId"] == "corr-001" && corr["causationId"] == nil && corr["source"] == "api")
        let both = c.data("rules.emit", ["topic": "x", "correlationId": "corr-001", "causationId": "c"])
        #expect(both["correlationId"] == "corr-001" && both["causationId"] == "c")
        c.expectError("rules.emit", ["topic": "x", "correlationId": ""], code: "VALIDATION_ERROR",
                      message: "Invalid \"correlationId\": expected non-empty string")
        let plain = c.data("rules.emit", ["topic": "x", "correlationId": .null])
        #expect(plain.objectValue?.keys == ["id", "topic", "data", "timestamp", "source"])
    }

    @Test func s04_factSetGetVersion() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        let fact = c.data("rules.setFact", ["key": "user:1:name", "value": "Alice"])
        #expect(fact.objectValue?.keys == ["key", "value", "timestamp", "source", "version"])
        #expect(fact == ["key": "user:1:name", "value": "Alice", "timestamp": fact["timestamp"] ?? .null, "source": "api", "version": 1])
        #expect(fact["timestamp"]?.intValue != nil)
        #expect(c.data("rules.setFact", ["key": "user:1:name", "value": "Alice"])["version"] == 2)
        #expect(c.call("rules.getFact", ["key": "user:1:name"]) == #"{"id":3,"type":"result","data":"Alice"}"#)
        #expect(c.call("rules.getFact", ["key": "user:9:name"]) == #"{"id":4,"type":"result","data":null}"#)
        c.expectError("rules.setFact", ["key": "k"], code: "VALIDATION_ERROR", message: "Missing \"value\": expected a value")
        let nullFact = c.data("rules.setFact", ["key": "k", "value": .null])
        #expect(nullFact["key"] == "k" && nullFact["value"] == .null && nullFact["version"] == 1)
        #expect(nullFact.objectValue?.keys == ["key", "value", "timestamp", "source", "version"])
        #expect(c.call("rules.getFact", ["key": "k"]) == #"{"id":7,"type":"result","data":null}"#)
    }

    @Test func s05_deleteFact() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        #expect(c.data("rules.setFact", ["key": "a", "value": 1])["version"] == 1)
        #expect(c.data("rules.setFact", ["key": "a", "value": 2])["version"] == 2)
        #expect(c.call("rules.deleteFact", ["key": "a"]) == #"{"id":3,"type":"result","data":{"deleted":true}}"#)
        #expect(c.data("rules.getFact", ["key": "a"]) == .null)
        #expect(c.call("rules.deleteFact", ["key": "a"]) == #"{"id":5,"type":"result","data":{"deleted":false}}"#)
        #expect(c.data("rules.setFact", ["key": "a", "value": 3])["version"] == 1)
    }

    @Test func s06_queryFacts() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        #expect(c.call("rules.getAllFacts") == #"{"id":1,"type":"result","data":[]}"#)
        for (k, v) in [("user:1:name", "Alice"), ("user:2:name", "Bob"), ("user:1:role", "admin"), ("system:version", "1.0")] {
            c.call("rules.setFact", ["key": .string(k), "value": .string(v)])
        }
        let names = c.data("rules.queryFacts", ["pattern": "user:*:name"]).arrayValue ?? []
        #expect(names.map { $0["key"] } == ["user:1:name", "user:2:name"])
        #expect(names.map { $0["value"] } == ["Alice", "Bob"])
        #expect(c.data("rules.queryFacts", ["pattern": "user:*"]) == [])
        #expect(c.data("rules.queryFacts", ["pattern": "*"]) == [])
        #expect(c.data("rules.queryFacts", ["pattern": "nothing:*"]) == [])
        c.expectError("rules.queryFacts", code: "VALIDATION_ERROR", message: "Missing or invalid \"pattern\": expected non-empty string")
        let all = c.data("rules.getAllFacts").arrayValue ?? []
        #expect(all.map { $0["key"] } == ["user:1:name", "user:2:name", "user:1:role", "system:version"])
        #expect(all.allSatisfy { $0["source"] == "api" && $0["version"] == 1 })
    }

    @Test func s07_statsShapeAndCounters() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        let fresh = c.data("rules.stats")
        #expect(fresh == ["rulesCount": 0, "factsCount": 0, "timersCount": 0, "eventsProcessed": 0, "rulesExecuted": 0,
                          "avgProcessingTimeMs": 0, "tracing": ["enabled": false, "entriesCount": 0, "maxEntries": 10000]])
        for _ in 0..<3 { c.call("rules.emit", ["topic": "e"]) }
        let after = c.data("rules.stats")
        #expect(after["eventsProcessed"] == 3 && after["rulesExecuted"] == 0 && after["avgProcessingTimeMs"]?.isNumber == true)
    }

    @Test func s08_subscribeAndPushOrdering() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        let subRaw = c.call("rules.subscribe", ["pattern": "order.*"])
        let s = try #require(W.parse(subRaw)["data"]?["subscriptionId"]?.stringValue)
        #expect(s.hasPrefix("sub-") && Int(s.dropFirst(4)) != nil)
        #expect(subRaw == #"{"id":1,"type":"result","data":{"subscriptionId":"\#(s)"}}"#)  // no initial data
        #expect(c.takePushes().isEmpty)
        let resultRaw = c.call("rules.emit", ["topic": "order.created", "data": ["orderId": "abc"]])
        #expect(c.log == ["push(\(s), order.created)", "result"])  // the push, then the emit's result
        let event = expectRulesPush(c.pushes.first, sub: s, topic: "order.created")
        #expect(event["data"] == ["orderId": "abc"] && event["source"] == "api")
        #expect(event == W.parse(resultRaw)["data"])  // the pushed event is the emitted one
    }

    @Test func s09_subscriptionMatching() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        let s1 = c.data("rules.subscribe", ["pattern": "order.*"])["subscriptionId"]?.stringValue ?? "?"
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "payment.received"])
        #expect(c.log == ["result"])
        c.log = []
        c.call("rules.emit", ["topic": "order.created.v2"])
        c.call("rules.emit", ["topic": "order"])
        #expect(c.log == ["push(\(s1), order.created.v2)", "result", "push(\(s1), order)", "result"])
        let s2 = c.data("rules.subscribe", ["pattern": "*"])["subscriptionId"]?.stringValue ?? "?"
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "any.event"])
        c.call("rules.emit", ["topic": "a.b.c"])
        #expect(c.log == ["push(\(s2), any.event)", "result", "push(\(s2), a.b.c)", "result"])
    }

    @Test func s10_unsubscribe() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        let s = c.data("rules.subscribe", ["pattern": "order.*"])["subscriptionId"]?.stringValue ?? "?"
        #expect(c.call("rules.unsubscribe", ["subscriptionId": .string(s)]) == #"{"id":2,"type":"result","data":{"unsubscribed":true}}"#)
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "order.created"])
        #expect(c.log == ["result"])
        c.expectError("rules.unsubscribe", ["subscriptionId": .string(s)], code: "NOT_FOUND", message: "Subscription \"\(s)\" not found")
        c.expectError("rules.unsubscribe", ["subscriptionId": "sub-nonexistent"], code: "NOT_FOUND",
                      message: "Subscription \"sub-nonexistent\" not found")
        c.expectError("rules.unsubscribe", code: "VALIDATION_ERROR", message: "Missing or invalid \"subscriptionId\": expected non-empty string")
    }

    @Test func s11_multipleSubscriptions() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        let s1 = c.data("rules.subscribe", ["pattern": "order.*"])["subscriptionId"]?.stringValue ?? "?"
        let s2 = c.data("rules.subscribe", ["pattern": "payment.*"])["subscriptionId"]?.stringValue ?? "?"
        #expect(s1 != s2)
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "order.created"])
        c.call("rules.emit", ["topic": "payment.received"])
        #expect(c.log == ["push(\(s1), order.created)", "result", "push(\(s2), payment.received)", "result"])
        let s3 = c.data("rules.subscribe", ["pattern": "a.*"])["subscriptionId"]?.stringValue ?? "?"
        let s4 = c.data("rules.subscribe", ["pattern": "a.*"])["subscriptionId"]?.stringValue ?? "?"
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "a.event"])
        #expect(c.log == ["push(\(s3), a.event)", "push(\(s4), a.event)", "result"])
        #expect(c.pushes.map { $0["data"] }.allSatisfy { $0 == c.pushes.first?["data"] })  // the same event twice
        c.call("rules.unsubscribe", ["subscriptionId": .string(s3)])
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "a.event"])
        #expect(c.log == ["push(\(s4), a.event)", "result"])
    }

    /// `server.connections` rows and `server.stats` totals, polled (bounded) until `done` holds:
    /// a closed socket is noticed by the loop asynchronously.
    private func waitForRegistry(_ c: WireRulesClient, until done: (JSON, JSON) -> Bool) -> (JSON, JSON) {
        var last: (JSON, JSON) = (.null, .null)
        for _ in 0..<100 {
            last = (c.data("server.connections"), c.data("server.stats"))
            if done(last.0, last.1) { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return last
    }

    @Test func s12_multiClientAndCleanup() throws {
        let server = W.server()
        defer { server.stop() }
        let a = try WireRulesClient(server)
        let b = try WireRulesClient(server)
        let s = a.data("rules.subscribe", ["pattern": "chat.*"])["subscriptionId"]?.stringValue ?? "?"
        let sent = b.data("rules.emit", ["topic": "chat.message", "data": ["text": "hi"]])
        #expect(b.log == ["result"] && b.pushes.isEmpty)  // the emitter gets only its result
        let got = a.sync()
        #expect(got.count == 1)
        #expect(expectRulesPush(got.first, sub: s, topic: "chat.message") == sent)
        let (rows, stats) = waitForRegistry(b) { rows, _ in rows.arrayValue?.count == 2 }
        #expect(rows.arrayValue?.map { $0["rulesSubscriptionCount"] } == [1, 0])
        #expect(stats["connections"]?["totalRulesSubscriptions"] == 1)
        b.expectError("rules.unsubscribe", ["subscriptionId": .string(s)], code: "NOT_FOUND", message: "Subscription \"\(s)\" not found")

        a.close()
        #expect(b.data("rules.emit", ["topic": "chat.message"])["topic"] == "chat.message")
        #expect(b.log.last == "result" && b.pushes.isEmpty)
        let (after, afterStats) = waitForRegistry(b) { rows, _ in rows.arrayValue?.count == 1 }
        #expect(after.arrayValue?.count == 1)
        #expect(after.arrayValue?.first?["rulesSubscriptionCount"] == 0)
        #expect(afterStats["connections"]?["totalRulesSubscriptions"] == 0)
        #expect(afterStats["connectionCount"] == 1)
        b.expectError("rules.unsubscribe", ["subscriptionId": .string(s)], code: "NOT_FOUND", message: "Subscription \"\(s)\" not found")
    }

    @Test func s13_subscriptionLimit() throws {
        let server = W.server { $0.connectionLimits = ConnectionLimits(maxSubscriptionsPerConnection: 3) }
        defer { server.stop() }
        let c = try WireRulesClient(server)
        #expect(c.data("store.subscribe", ["query": "all-users"])["subscriptionId"]?.stringValue != nil)
        #expect(c.data("store.subscribe", ["query": "user-count"])["subscriptionId"]?.stringValue != nil)
        let s = c.data("rules.subscribe", ["pattern": "a.*"])["subscriptionId"]?.stringValue ?? "?"
        c.expectError("rules.subscribe", ["pattern": "b"], code: "RATE_LIMITED", message: "Subscription limit reached (max 3 per connection)")
        #expect(c.data("rules.unsubscribe", ["subscriptionId": .string(s)]) == ["unsubscribed": true])
        #expect(c.data("rules.subscribe", ["pattern": "b"])["subscriptionId"]?.stringValue?.hasPrefix("sub-") == true)
    }

    @Test func s14_registerGetList() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        let reg = c.data("rules.registerRule", ["rule": W.r1])
        #expect(reg.objectValue?.keys == ["id", "name", "version", "createdAt", "updatedAt"])
        #expect(reg["id"] == "r1" && reg["name"] == "Rule r1")
        #expect(reg["version"]?.intValue != nil && reg["createdAt"]?.intValue != nil && reg["updatedAt"]?.intValue != nil)
        var stored = W.r1.objectValue!
        stored["version"] = reg["version"]
        stored["createdAt"] = reg["createdAt"]
        stored["updatedAt"] = reg["updatedAt"]
        #expect(c.data("rules.getRule", ["ruleId": "r1"]) == .object(stored))
        #expect(c.data("rules.getRules") == ["rules": [["id": "r1", "name": "Rule r1", "enabled": true, "priority": 100,
                                                         "version": reg["version"] ?? .null, "tags": ["test"]]]])
        c.expectError("rules.registerRule", ["rule": W.r1], code: "ALREADY_EXISTS", message: "Rule \"r1\" already exists")
        var noTrigger = W.r1.objectValue!
        noTrigger["id"] = "r2"
        noTrigger["trigger"] = nil
        let invalid = W.parse(c.call("rules.registerRule", ["rule": .object(noTrigger)]))
        #expect(invalid["type"] == "error" && invalid["code"] == "VALIDATION_ERROR" && invalid["message"] == "Rule validation failed")
        #expect(invalid["details"]?.arrayValue?.contains { $0["path"] == "trigger" } == true)
        c.expectError("rules.registerRule", code: "VALIDATION_ERROR", message: "Missing or invalid \"rule\": expected object")
        #expect(c.data("rules.getRules")["rules"]?.arrayValue?.count == 1)
    }

    @Test func s15_ruleFiresAndEmits() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        c.data("rules.registerRule", ["rule": W.onEvent("r", "test.trigger", actions: [
            W.emit("output.${event.kind}", ["v": W.ref("event.value"), "lit": "x"]),
        ])])
        let t = c.data("rules.subscribe", ["pattern": "test.trigger"])["subscriptionId"]?.stringValue ?? "?"
        let s = c.data("rules.subscribe", ["pattern": "output.*"])["subscriptionId"]?.stringValue ?? "?"
        _ = c.takePushes()
        let trigger = c.data("rules.emit", ["topic": "test.trigger", "data": ["kind": "a", "value": 42]])
        #expect(c.log == ["push(\(t), test.trigger)", "push(\(s), output.a)", "result"])
        #expect(expectRulesPush(c.pushes.first, sub: t, topic: "test.trigger") == trigger)
        let out = expectRulesPush(c.pushes.last, sub: s, topic: "output.a")
        #expect(out["data"] == ["v": 42, "lit": "x"] && out["source"] == "rule" && out["correlationId"] == nil)
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "test.trigger", "data": ["kind": "a", "value": 1], "correlationId": "c1"])
        #expect(c.log == ["push(\(t), test.trigger)", "push(\(s), output.a)", "result"])
        #expect(c.pushes.last?["data"]?["event"]?["correlationId"] == "c1")
    }

    @Test func s16_conditions() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        let rules: [JSON] = [
            W.onEvent("big", "order.created", conditions: [W.cond(W.field("total"), "gte", 100), W.cond(W.fact("user:premium"), "eq", true)],
                      actions: [W.emit("out.big")]),
            W.onEvent("in", "c.in", conditions: [W.cond(W.field("tier"), "in", ["gold", "silver"])], actions: [W.emit("out.in")]),
            W.onEvent("re", "c.re", conditions: [W.cond(W.field("code"), "matches", "^A-\\d+$")], actions: [W.emit("out.re")]),
            W.onEvent("ex", "c.ex", conditions: [W.cond(W.field("email"), "exists")], actions: [W.emit("out.ex")]),
            W.onEvent("nc", "c.nc", conditions: [W.cond(W.field("text"), "not_contains", "spam")], actions: [W.emit("out.nc")]),
        ]
        for r in rules { #expect(c.data("rules.registerRule", ["rule": r])["id"] == r["id"]) }
        let s = c.data("rules.subscribe", ["pattern": "out.*"])["subscriptionId"]?.stringValue ?? "?"
        _ = c.takePushes()
        /// The output topic the emit produced (nil when the rule did not fire).
        func fired(_ topic: String, _ data: JSON) -> String? {
            c.call("rules.emit", ["topic": .string(topic), "data": data])
            let pushes = c.takePushes()
            #expect(pushes.count <= 1)
            return pushes.first.map { expectRulesPush($0, sub: s, topic: $0["data"]?["topic"]?.stringValue ?? "") }?["topic"]?.stringValue
        }
        #expect(fired("order.created", ["total": 150]) == nil)  // fact missing
        c.call("rules.setFact", ["key": "user:premium", "value": true])
        #expect(fired("order.created", ["total": 150]) == "out.big")
        #expect(fired("order.created", ["total": "150"]) == nil)
        #expect(fired("order.created", ["total": 99]) == nil)
        #expect(fired("c.in", ["tier": "gold"]) == "out.in")
        #expect(fired("c.in", ["tier": "bronze"]) == nil)
        #expect(fired("c.re", ["code": "A-12"]) == "out.re")
        #expect(fired("c.re", ["code": "B-12"]) == nil)
        #expect(fired("c.ex", ["email": "a@b"]) == "out.ex")
        #expect(fired("c.ex", ["name": "x"]) == nil)
        #expect(fired("c.nc", ["text": "hello"]) == "out.nc")
        #expect(fired("c.nc", ["text": "buy spam now"]) == nil)
    }

    @Test func s17_factReferenceInCondition() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        c.data("rules.registerRule", ["rule": W.onEvent("r", "pay", conditions: [W.cond(W.fact("order:${event.id}:status"), "neq", "paid")],
                                                        actions: [W.emit("out.unpaid")])])
        let s = c.data("rules.subscribe", ["pattern": "out.*"])["subscriptionId"]?.stringValue ?? "?"
        c.call("rules.setFact", ["key": "order:7:status", "value": "paid"])
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "pay", "data": ["id": 7]])
        #expect(c.log == ["result"])
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "pay", "data": ["id": 8]])
        #expect(c.log == ["push(\(s), out.unpaid)", "result"])
    }

    /// L (registered first) fires only if H's set_fact ran before it, i.e. H has the higher priority.
    private func priorityRun(h: Int64, l: Int64) throws -> [String] {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        c.data("rules.registerRule", ["rule": W.onEvent("L", "process", priority: l, conditions: [W.cond(W.fact("processing:enabled"), "eq", true)],
                                                        actions: [W.emit("dep.done")])])
        c.data("rules.registerRule", ["rule": W.onEvent("H", "process", priority: h, actions: [W.setFact("processing:enabled", true)])])
        c.data("rules.subscribe", ["pattern": "dep.done"])
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "process"])
        return c.log.map { $0.hasPrefix("push(") ? String($0.split(separator: " ").last!.dropLast()) : $0 }
    }

    @Test func s18_priority() throws {
        #expect(try priorityRun(h: 100, l: 1) == ["dep.done", "result"])
        #expect(try priorityRun(h: 1, l: 100) == ["result"])
    }

    @Test func s19_factTrigger() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        c.data("rules.registerRule", ["rule": W.rule("f", trigger: ["type": "fact", "pattern": "user:*:status"],
                                                     actions: [W.emit("status.changed", ["v": W.ref("trigger.fact.value")])])])
        c.data("rules.registerRule", ["rule": W.onEvent("mark", "mark", actions: [W.setFact("user:2:status", "x")])])
        let s = c.data("rules.subscribe", ["pattern": "status.changed"])["subscriptionId"]?.stringValue ?? "?"
        _ = c.takePushes()
        let set = c.data("rules.setFact", ["key": "user:1:status", "value": "online"])
        #expect(set["value"] == "online")
        #expect(c.log == ["push(\(s), status.changed)", "result"])  // the push before the setFact result
        let ev = expectRulesPush(c.pushes.first, sub: s, topic: "status.changed")
        #expect(ev["data"] == ["v": "online"] && ev["source"] == "rule")
        _ = c.takePushes()
        c.call("rules.setFact", ["key": "user:1:name", "value": "n"])
        c.call("rules.deleteFact", ["key": "user:1:status"])
        c.call("rules.emit", ["topic": "mark"])
        #expect(c.log == ["result", "result", "result"])
        #expect(c.data("rules.getFact", ["key": "user:2:status"]) == "x")  // the action ran, without a fact trigger
    }

    @Test func s20_loopGuard() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        c.data("rules.registerRule", ["rule": W.onEvent("R", "ping", actions: [W.emit("ping")])])
        let s = c.data("rules.subscribe", ["pattern": "ping"])["subscriptionId"]?.stringValue ?? "?"
        let before = c.data("rules.stats")
        _ = c.takePushes()
        let first = c.data("rules.emit", ["topic": "ping"])
        #expect(c.log == Array(repeating: "push(\(s), ping)", count: 11) + ["result"])
        #expect(c.pushes.first?["data"]?["event"] == first && c.pushes.dropFirst().allSatisfy { $0["data"]?["event"]?["source"] == "rule" })
        let after = c.data("rules.stats")
        #expect((after["rulesExecuted"]?.intValue ?? 0) - (before["rulesExecuted"]?.intValue ?? 0) == 10)
        #expect((after["eventsProcessed"]?.intValue ?? 0) - (before["eventsProcessed"]?.intValue ?? 0) == 11)
        #expect(c.data("rules.getFact", ["key": "still-alive"]) == .null)  // responsive

        let pairServer = W.server()
        defer { pairServer.stop() }
        let p = try WireRulesClient(pairServer)
        p.data("rules.registerRule", ["rule": W.onEvent("P", "ping", actions: [W.emit("pong")])])
        p.data("rules.registerRule", ["rule": W.onEvent("Q", "pong", actions: [W.emit("ping")])])
        let all = p.data("rules.subscribe", ["pattern": "*"])["subscriptionId"]?.stringValue ?? "?"
        _ = p.takePushes()
        p.call("rules.emit", ["topic": "ping"])
        let topics = (0..<11).map { $0 % 2 == 0 ? "ping" : "pong" }
        #expect(p.log == topics.map { "push(\(all), \($0))" } + ["result"])
        #expect(p.data("rules.stats")["eventsProcessed"] == 11)
    }

    @Test func s21_enableDisable() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        let version = c.data("rules.registerRule", ["rule": W.r1])["version"]
        let s = c.data("rules.subscribe", ["pattern": "output.r1"])["subscriptionId"]?.stringValue ?? "?"
        #expect(c.call("rules.disableRule", ["ruleId": "r1"]) == #"{"id":3,"type":"result","data":{"ruleId":"r1","enabled":false}}"#)
        let disabled = c.data("rules.getRule", ["ruleId": "r1"])
        #expect(disabled["enabled"] == false && disabled["version"] == version)
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "t.x"])
        #expect(c.log == ["result"])
        #expect(c.call("rules.enableRule", ["ruleId": "r1"]) == #"{"id":6,"type":"result","data":{"ruleId":"r1","enabled":true}}"#)
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "t.x"])
        #expect(c.log == ["push(\(s), output.r1)", "result"])
        #expect(c.data("rules.getRule", ["ruleId": "r1"])["version"] == version)
        c.expectError("rules.enableRule", ["ruleId": "nope"], code: "NOT_FOUND", message: "Rule \"nope\" not found")
        c.expectError("rules.disableRule", ["ruleId": "nope"], code: "NOT_FOUND", message: "Rule \"nope\" not found")
        var off = W.r1.objectValue!
        off["id"] = "r2"
        off["enabled"] = false
        c.data("rules.registerRule", ["rule": .object(off)])
        #expect(c.data("rules.enableRule", ["ruleId": "r2"]) == ["ruleId": "r2", "enabled": true])
        #expect(c.data("rules.getRule", ["ruleId": "r2"])["enabled"] == true)
    }

    @Test func s22_update() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        let v1 = c.data("rules.registerRule", ["rule": W.r1])["version"]?.intValue ?? Int64.max
        let s = c.data("rules.subscribe", ["pattern": "*"])["subscriptionId"]?.stringValue ?? "?"
        let upd = c.data("rules.updateRule", ["ruleId": "r1", "updates": ["priority": 200, "tags": ["updated"]]])
        #expect(upd.objectValue?.keys == ["id", "version", "updatedAt"])
        #expect(upd["id"] == "r1" && (upd["version"]?.intValue ?? 0) > v1 && upd["updatedAt"]?.intValue != nil)
        let stored = c.data("rules.getRule", ["ruleId": "r1"])
        #expect(stored["priority"] == 200 && stored["tags"] == ["updated"] && stored["version"] == upd["version"])
        c.data("rules.updateRule", ["ruleId": "r1", "updates": ["actions": [W.emit("new-output.r1")]]])
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "t.x"])
        #expect(c.log == ["push(\(s), t.x)", "push(\(s), new-output.r1)", "result"])
        c.expectError("rules.updateRule", ["ruleId": "nonexistent", "updates": [:]], code: "INTERNAL_ERROR", message: "Rule 'nonexistent' not found")
        let invalid = W.parse(c.call("rules.updateRule", ["ruleId": "r1", "updates": ["trigger": ["type": "bogus"]]]))
        #expect(invalid["type"] == "error" && invalid["code"] == "VALIDATION_ERROR")
        #expect(c.data("rules.getRule", ["ruleId": "r1"])["trigger"] == ["type": "event", "topic": "t.x"])  // unchanged
    }

    @Test func s23_unregisterAndFullCycle() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        c.data("rules.registerRule", ["rule": W.r1])
        c.data("rules.subscribe", ["pattern": "output.r1"])
        #expect(c.call("rules.unregisterRule", ["ruleId": "r1"]) == #"{"id":3,"type":"result","data":{"ruleId":"r1","unregistered":true}}"#)
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "t.x"])
        #expect(c.log == ["result"])
        c.expectError("rules.getRule", ["ruleId": "r1"], code: "NOT_FOUND", message: "Rule \"r1\" not found")
        #expect(c.data("rules.getRules") == ["rules": []])
        c.expectError("rules.unregisterRule", ["ruleId": "r1"], code: "NOT_FOUND", message: "Rule \"r1\" not found")

        c.data("rules.registerRule", ["rule": W.r1])
        #expect(c.data("rules.getRule", ["ruleId": "r1"])["id"] == "r1")
        #expect(c.data("rules.updateRule", ["ruleId": "r1", "updates": ["name": "renamed"]])["id"] == "r1")
        #expect(c.data("rules.disableRule", ["ruleId": "r1"]) == ["ruleId": "r1", "enabled": false])
        #expect(c.data("rules.enableRule", ["ruleId": "r1"]) == ["ruleId": "r1", "enabled": true])
        let list = c.data("rules.getRules")["rules"]?.arrayValue ?? []
        #expect(list.count == 1 && list.first?["name"] == "renamed" && list.first?["enabled"] == true)
        #expect(c.data("rules.unregisterRule", ["ruleId": "r1"]) == ["ruleId": "r1", "unregistered": true])
        #expect(c.data("rules.getRules") == ["rules": []])
    }

    @Test func s24_timers() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        c.data("rules.registerRule", ["rule": W.onEvent("arm", "order.created", actions: [[
            "type": "set_timer",
            "timer": ["name": "pay:${event.orderId}", "duration": "60ms",
                      "onExpire": ["topic": "order.timeout", "data": ["orderId": W.ref("event.orderId")]]],
        ]])])
        c.data("rules.registerRule", ["rule": W.rule("tr", trigger: ["type": "timer", "name": "pay:*"], actions: [W.emit("timer.rule")])])
        c.data("rules.registerRule", ["rule": W.onEvent("cancel", "payment.confirmed", actions: [["type": "cancel_timer", "name": "pay:${event.orderId}"]])])
        let s = c.data("rules.subscribe", ["pattern": "*"])["subscriptionId"]?.stringValue ?? "?"
        _ = c.takePushes()
        let started = Date()
        c.call("rules.emit", ["topic": "order.created", "data": ["orderId": "A"], "correlationId": "k"])
        #expect(c.log == ["push(\(s), order.created)", "result"])
        #expect(c.data("rules.stats")["timersCount"] == 1)
        _ = c.takePushes()
        // No request from here on: the loop's timer fires and the pushes arrive by themselves.
        let first = c.waitPush(ms: 2000)
        let second = c.waitPush(ms: 2000)
        #expect(Date().timeIntervalSince(started) >= 0.05)
        let ruleEvent = expectRulesPush(first, sub: s, topic: "timer.rule")
        #expect(ruleEvent["source"] == "rule" && ruleEvent["correlationId"] == "k")
        let timeout = expectRulesPush(second, sub: s, topic: "order.timeout")
        #expect(timeout["data"] == ["orderId": "A"] && timeout["source"] == "timer" && timeout["correlationId"] == "k")
        #expect(timeout["causationId"]?.stringValue?.isEmpty == false)
        #expect(c.data("rules.stats")["timersCount"] == 0)
        #expect(c.strays.isEmpty)

        // Variant: the payment before expiry cancels the timer; no order.timeout ever arrives.
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "order.created", "data": ["orderId": "B"]])
        c.call("rules.emit", ["topic": "payment.confirmed", "data": ["orderId": "B"]])
        #expect(c.log == ["push(\(s), order.created)", "result", "push(\(s), payment.confirmed)", "result"])
        #expect(c.data("rules.stats")["timersCount"] == 0)
        _ = c.takePushes()
        #expect(c.waitPush(ms: 250) == nil)  // well past the 60 ms
    }

    @Test func s25_validateAvailabilityAndTiers() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        #expect(c.call("rules.validateRule", ["rule": W.r1]) == #"{"id":1,"type":"result","data":{"valid":true,"errors":[],"warnings":[]}}"#)
        var noActions = W.r1.objectValue!
        noActions["actions"] = []
        let warn = c.data("rules.validateRule", ["rule": .object(noActions)])
        #expect(warn["valid"] == true && warn["errors"] == [] && warn["warnings"]?.arrayValue?.map { $0["path"] } == ["actions"])
        let bad = c.data("rules.validateRule", ["rule": ["id": "invalid"]])
        #expect(bad["valid"] == false && (bad["errors"]?.arrayValue?.count ?? 0) >= 2)
        c.expectError("rules.getRule", ["ruleId": "invalid"], code: "NOT_FOUND", message: "Rule \"invalid\" not found")
        c.expectError("rules.nonexistent", code: "UNKNOWN_OPERATION", message: "Unknown rules operation \"rules.nonexistent\"")

        let bare = W.server(engine: false)
        defer { bare.stop() }
        let n = try WireRulesClient(bare)
        let ops: [(String, KeyValuePairs<String, JSON>)] = [
            ("rules.emit", ["topic": "x"]), ("rules.setFact", ["key": "k", "value": 1]), ("rules.getFact", ["key": "k"]),
            ("rules.deleteFact", ["key": "k"]), ("rules.queryFacts", ["pattern": "*"]), ("rules.getAllFacts", [:]),
            ("rules.subscribe", ["pattern": "*"]), ("rules.unsubscribe", ["subscriptionId": "sub-1"]), ("rules.stats", [:]),
            ("rules.registerRule", ["rule": W.r1]), ("rules.nonexistent", [:]),
        ]
        for (type, fields) in ops {
            n.expectError(type, fields, code: "RULES_NOT_AVAILABLE", message: "Rule engine is not configured")
        }

        let authed = W.server { $0.auth = fixtureAuth() }
        defer { authed.stop() }
        let w = try WireRulesClient(authed)
        #expect(w.data("auth.login", ["token": "writer"])["userId"] == "writer-1")
        for op in ["rules.registerRule", "rules.updateRule", "rules.unregisterRule", "rules.validateRule"] {
            w.expectError(op, ["rule": W.r1, "ruleId": "r1", "updates": [:]], code: "FORBIDDEN",
                          message: "Role level insufficient for \(op) (requires admin)")
        }
        #expect(w.data("rules.emit", ["topic": "x"])["topic"] == "x")
        let r = try WireRulesClient(authed)
        #expect(r.data("auth.login", ["token": "reader"])["userId"] == "reader-1")
        r.expectError("rules.getRules", code: "FORBIDDEN", message: "Role level insufficient for rules.getRules (requires admin)")
        r.expectError("rules.emit", ["topic": "x"], code: "FORBIDDEN", message: "Role level insufficient for rules.emit (requires write)")
        #expect(r.data("rules.subscribe", ["pattern": "x.*"])["subscriptionId"]?.stringValue?.hasPrefix("sub-") == true)
        r.log = []
        w.call("rules.emit", ["topic": "x.y"])
        #expect(r.sync().map { $0["data"]?["topic"] } == ["x.y"])
    }
    /// Wire details (docs/protocol/rules-operations.md, docs/protocol/store-operations.md#subscriptions) next to the scenarios: store ids are not rules ids,
    /// `ord*` is literal, `updates` must be an object, validation issues carry path/message/severity.
    @Test func extra_wireEdgeChecks() throws {
        let server = W.server()
        defer { server.stop() }
        let c = try WireRulesClient(server)
        let storeSub = c.data("store.subscribe", ["query": "user-count"])["subscriptionId"]?.stringValue ?? "?"
        c.expectError("rules.unsubscribe", ["subscriptionId": .string(storeSub)], code: "NOT_FOUND",
                      message: "Subscription \"\(storeSub)\" not found")
        let literal = c.data("rules.subscribe", ["pattern": "ord*"])["subscriptionId"]?.stringValue ?? "?"
        let exact = c.data("rules.subscribe", ["pattern": "order.created"])["subscriptionId"]?.stringValue ?? "?"
        #expect(literal != exact && literal != storeSub)
        _ = c.takePushes()
        c.call("rules.emit", ["topic": "order.created"])
        c.call("rules.emit", ["topic": "order.created.eu"])
        #expect(c.log == ["push(\(exact), order.created)", "result", "result"])
        c.data("rules.registerRule", ["rule": W.r1])
        c.expectError("rules.updateRule", ["ruleId": "r1", "updates": [1]], code: "VALIDATION_ERROR",
                      message: "Missing or invalid \"updates\": expected object")
        c.expectError("rules.enableRule", code: "VALIDATION_ERROR", message: "Missing or invalid \"ruleId\": expected non-empty string")
        let invalid = W.parse(c.call("rules.registerRule", ["rule": ["id": "bad"]]))
        let issues = invalid["details"]?.arrayValue ?? []
        #expect(!issues.isEmpty)
        #expect(issues.allSatisfy { $0["path"]?.stringValue != nil && $0["message"]?.stringValue != nil && $0["severity"] == "error" })
        #expect(c.strays.isEmpty)
    }
}
