import NoexJSON
import Testing

@testable import NoexRules

/// What a client would see, at the engine level: subscriber pushes are recorded as
/// `push(<subscription>, <topic>)` the moment the engine delivers them, and each call's
/// result as `result` once the call returns — the order the wire layer will write them.
final class Wire {
    let h = Harness(recordAll: false)
    var frames: [String] = []
    var pushes: [(sub: String, event: RuleEvent)] = []
    var engine: RuleEngine { h.engine }

    @discardableResult
    func subscribe(_ pattern: String, as name: String) -> Int {
        engine.subscribe(pattern: pattern) { [unowned self] event in
            frames.append("push(\(name), \(event.topic))")
            pushes.append((name, event))
        }
    }

    @discardableResult
    func call<T>(_ body: (RuleEngine) throws -> T) rethrows -> T {
        let value = try body(engine)
        frames.append("result")
        return value
    }

    @discardableResult
    func emit(_ topic: String, _ data: JSONObject = [:], correlationId: String? = nil) throws -> RuleEvent {
        try call { try $0.emit(topic: topic, data: data, correlationId: correlationId) }
    }

    func pushes(for sub: String) -> [RuleEvent] { pushes.filter { $0.sub == sub }.map(\.event) }

    func clear() {
        frames = []
        pushes = []
    }
}

/// The original's 25 rules scenarios, minus the wire frames themselves. Parts that only the
/// wire layer can show (request-field validation, tiers, subscription limits, "not configured")
/// are noted where they occur; the engine-side half is asserted here.
struct ScenarioTests {
    @Test func s01_emitReturnsTheEvent() throws {
        let w = Wire()
        let ev = try w.emit("order.created", ["orderId": "123", "total": 99])
        let json = ev.json
        #expect(json["topic"] == "order.created")
        #expect(json["data"]?["orderId"] == "123")
        #expect(json["id"]?.stringValue?.isEmpty == false)
        #expect(json["timestamp"]?.isNumber == true)
        #expect(json["source"] == "api")
        #expect(json.objectValue?.contains("correlationId") == false)
        #expect(json.objectValue?.contains("causationId") == false)
    }

    @Test func s02_emitDefaults() throws {
        // Wire: data null/absent → {} and data:[1] / missing topic → VALIDATION_ERROR are request checks.
        let w = Wire()
        #expect(try w.emit("x").json["data"] == [:])
    }

    @Test func s03_correlatedEmit() throws {
        let w = Wire()
        let ev = try w.call { try $0.emit(topic: "t", correlationId: "corr-001", causationId: "c") }
        #expect(ev.json["correlationId"] == "corr-001" && ev.json["causationId"] == "c")
        let plain = try w.call { try $0.emit(topic: "t", correlationId: nil) }
        #expect(plain.json["correlationId"] == nil)
    }

    @Test func s04_factSetGetVersion() throws {
        let w = Wire()
        let f = try w.call { try $0.setFact(key: "user:1:name", value: "Alice") }
        #expect(f.json["key"] == "user:1:name" && f.json["value"] == "Alice" && f.json["source"] == "api")
        #expect(f.json["version"] == 1 && f.json["timestamp"]?.isNumber == true)
        #expect(try w.call { try $0.setFact(key: "user:1:name", value: "Alice") }.version == 2)
        #expect(w.engine.getFact("user:1:name") == "Alice")
        #expect(w.engine.getFact("nope") == nil)  // wire: null
        try w.call { try $0.setFact(key: "n", value: .null) }
        #expect(w.engine.getFact("n") == .null)
    }

    @Test func s05_deleteFact() throws {
        let w = Wire()
        try w.call { try $0.setFact(key: "k", value: 1) }
        #expect(try w.call { try $0.deleteFact("k") })
        #expect(w.engine.getFact("k") == nil)
        #expect(try !w.call { try $0.deleteFact("k") })
        #expect(try w.call { try $0.setFact(key: "k", value: 1) }.version == 1)
    }

    @Test func s06_queryFacts() throws {
        let w = Wire()
        #expect(w.engine.getAllFacts().isEmpty)
        for k in ["user:1:name", "user:2:name", "user:1:role", "system:version"] {
            try w.call { try $0.setFact(key: k, value: .string(k)) }
        }
        #expect(w.engine.queryFacts("user:*:name").map(\.key) == ["user:1:name", "user:2:name"])
        #expect(w.engine.queryFacts("user:*").isEmpty)
        #expect(w.engine.queryFacts("*").isEmpty)
        #expect(w.engine.queryFacts("nothing:*").isEmpty)
        #expect(w.engine.getAllFacts().map(\.key) == ["user:1:name", "user:2:name", "user:1:role", "system:version"])
    }

    @Test func s07_statsShapeAndCounters() throws {
        let w = Wire()
        #expect(
            w.engine.stats().json == [
                "rulesCount": 0, "factsCount": 0, "timersCount": 0, "eventsProcessed": 0, "rulesExecuted": 0,
                "avgProcessingTimeMs": 0, "tracing": ["enabled": false, "entriesCount": 0, "maxEntries": 10000],
            ])
        for _ in 0..<3 { try w.emit("x") }
        #expect(w.engine.stats().eventsProcessed == 3)
    }

    @Test func s08_subscribeAndPushOrdering() throws {
        let w = Wire()
        w.subscribe("order.*", as: "S")
        try w.emit("order.created", ["orderId": "abc"])
        #expect(w.frames == ["push(S, order.created)", "result"])
        #expect(w.pushes[0].event.data["orderId"] == "abc")
    }

    @Test func s09_subscriptionMatching() throws {
        let w = Wire()
        w.subscribe("order.*", as: "S")
        for t in ["payment.received", "order.created.v2", "order"] { try w.emit(t) }
        #expect(w.pushes(for: "S").map(\.topic) == ["order.created.v2", "order"])
        w.subscribe("*", as: "ALL")
        try w.emit("any.event")
        try w.emit("a.b.c")
        #expect(w.pushes(for: "ALL").map(\.topic) == ["any.event", "a.b.c"])
    }

    @Test func s10_unsubscribe() throws {
        let w = Wire()
        let s = w.subscribe("t", as: "S")
        #expect(w.engine.unsubscribe(s))
        try w.emit("t")
        #expect(w.pushes.isEmpty)
        #expect(!w.engine.unsubscribe(s))  // wire: NOT_FOUND (checked in the connection's own map)
    }

    @Test func s11_multipleSubscriptions() throws {
        let w = Wire()
        w.subscribe("order.*", as: "S1")
        w.subscribe("payment.*", as: "S2")
        try w.emit("order.created")
        try w.emit("payment.received")
        #expect(w.pushes(for: "S1").map(\.topic) == ["order.created"])
        #expect(w.pushes(for: "S2").map(\.topic) == ["payment.received"])
        w.clear()
        let a = w.subscribe("a.*", as: "A1")
        w.subscribe("a.*", as: "A2")
        try w.emit("a.event")
        #expect(w.frames == ["push(A1, a.event)", "push(A2, a.event)", "result"])
        w.engine.unsubscribe(a)
        w.clear()
        try w.emit("a.event")
        #expect(w.frames == ["push(A2, a.event)", "result"])
    }

    @Test func s12_multiClientAndCleanup() throws {
        let w = Wire()
        let clientA = [w.subscribe("chat.*", as: "A"), w.subscribe("chat.private", as: "A")]
        try w.emit("chat.message")  // emitted by client B
        #expect(w.pushes(for: "A").map(\.topic) == ["chat.message"])
        #expect(w.engine.subscriberCount == 2)
        for id in clientA { w.engine.unsubscribe(id) }  // A disconnects: the server unsubscribes all of A's
        #expect(w.engine.subscriberCount == 0)
        w.clear()
        try w.emit("chat.message")
        #expect(w.frames == ["result"])
    }

    @Test func s13_subscriptionLimit_engineSide() throws {
        // The limits and RATE_LIMITED are the wire layer's; the engine only has to keep an
        // exact count as subscriptions come and go.
        let w = Wire()
        let ids = (0..<3).map { w.subscribe("t.\($0)", as: "S\($0)") }
        #expect(w.engine.subscriberCount == 3)
        w.engine.unsubscribe(ids[1])
        #expect(w.engine.subscriberCount == 2)
        w.subscribe("t.x", as: "S4")
        #expect(w.engine.subscriberCount == 3)
    }

    static let r1: JSON = [
        "id": "r1", "name": "Rule r1", "priority": 100, "enabled": true, "tags": ["test"],
        "trigger": ["type": "event", "topic": "t.x"], "conditions": [],
        "actions": [["type": "emit_event", "topic": "output.r1", "data": ["source": "r1"]]],
    ]

    @Test func s14_registerGetList() throws {
        let w = Wire()
        let rule = try w.call { try $0.registerRule(Self.r1) }
        let result = rule.registerResultJSON
        #expect(result["id"] == "r1" && result["name"] == "Rule r1")
        #expect(result["version"]?.isNumber == true && result["createdAt"]?.isNumber == true && result["updatedAt"]?.isNumber == true)
        var expected = Self.r1.objectValue!
        expected["version"] = .int(Int64(rule.version))
        expected["createdAt"] = .int(rule.createdAt)
        expected["updatedAt"] = .int(rule.updatedAt)
        #expect(try w.engine.getRule("r1").json == .object(expected))
        #expect(
            w.engine.getRules().map(\.summaryJSON) == [
                ["id": "r1", "name": "Rule r1", "enabled": true, "priority": 100, "version": .int(Int64(rule.version)), "tags": ["test"]]
            ])
        #expect(throws: RulesError(.alreadyExists, "Rule \"r1\" already exists")) { try w.engine.registerRule(Self.r1) }
        var noTrigger = Self.r1.objectValue!
        noTrigger["id"] = "r2"
        noTrigger["trigger"] = nil
        do {
            try w.engine.registerRule(.object(noTrigger))
            Issue.record("expected VALIDATION_ERROR")
        } catch {
            #expect(error.code == .validation)
            #expect(error.details?.arrayValue?.contains { $0["path"] == "trigger" } == true)
        }
    }

    @Test func s15_ruleFiresAndEmits() throws {
        let w = Wire()
        try w.engine.registerRule(eventRule("r", on: "test.trigger", actions: [emitAction("output.${event.kind}", ["v": ref("event.value"), "lit": "x"])]))
        w.subscribe("test.trigger", as: "T")
        w.subscribe("output.*", as: "S")
        try w.emit("test.trigger", ["kind": "a", "value": 42])
        #expect(w.frames == ["push(T, test.trigger)", "push(S, output.a)", "result"])
        let out = w.pushes(for: "S")[0]
        #expect(out.data == ["v": 42, "lit": "x"] && out.source == .rule && out.correlationId == nil)
        try w.emit("test.trigger", ["kind": "a", "value": 1], correlationId: "c1")
        #expect(w.pushes(for: "S")[1].correlationId == "c1")
    }

    @Test func s16_conditions() throws {
        let w = Wire()
        try w.engine.registerRule(eventRule("big", on: "order.created", conditions: [
            cond(eventField("total"), "gte", 100), cond(factSource("user:premium"), "eq", true),
        ], actions: [emitAction("out.big")]))
        try w.engine.registerRule(eventRule("in", on: "c.in", conditions: [cond(eventField("tier"), "in", ["gold", "silver"])], actions: [emitAction("out.in")]))
        try w.engine.registerRule(eventRule("re", on: "c.re", conditions: [cond(eventField("code"), "matches", "^A-\\d+$")], actions: [emitAction("out.re")]))
        try w.engine.registerRule(eventRule("ex", on: "c.ex", conditions: [cond(eventField("email"), "exists")], actions: [emitAction("out.ex")]))
        try w.engine.registerRule(eventRule("nc", on: "c.nc", conditions: [cond(eventField("text"), "not_contains", "spam")], actions: [emitAction("out.nc")]))
        w.subscribe("out.*", as: "S")
        func fired(_ topic: String, _ data: JSONObject) throws -> Bool {
            let before = w.pushes.count
            try w.emit(topic, data)
            return w.pushes.count > before
        }
        #expect(try !fired("order.created", ["total": 150]))  // fact missing
        try w.call { try $0.setFact(key: "user:premium", value: true) }
        #expect(try fired("order.created", ["total": 150]))
        #expect(try !fired("order.created", ["total": "150"]))
        #expect(try !fired("order.created", ["total": 99]))
        #expect(try fired("c.in", ["tier": "gold"]))
        #expect(try !fired("c.in", ["tier": "bronze"]))
        #expect(try fired("c.re", ["code": "A-12"]))
        #expect(try !fired("c.re", ["code": "B-12"]))
        #expect(try fired("c.ex", ["email": "a@b"]))
        #expect(try !fired("c.ex", ["name": "x"]))
        #expect(try fired("c.nc", ["text": "hello"]))
        #expect(try !fired("c.nc", ["text": "buy spam now"]))
    }

    @Test func s17_factReferenceInCondition() throws {
        let w = Wire()
        try w.engine.registerRule(eventRule("r", on: "pay", conditions: [cond(factSource("order:${event.id}:status"), "neq", "paid")], actions: [emitAction("out.unpaid")]))
        w.subscribe("out.*", as: "S")
        try w.call { try $0.setFact(key: "order:7:status", value: "paid") }
        try w.emit("pay", ["id": 7])
        #expect(w.pushes.isEmpty)
        try w.emit("pay", ["id": 8])
        #expect(w.pushes(for: "S").map(\.topic) == ["out.unpaid"])
    }

    static func priorityRules(hPriority: Int64, lPriority: Int64) -> [JSON] {
        [
            eventRule("L", on: "process", priority: lPriority, conditions: [cond(factSource("processing:enabled"), "eq", true)], actions: [emitAction("dep.done")]),
            eventRule("H", on: "process", priority: hPriority, actions: [setFactAction("processing:enabled", true)]),
        ]
    }

    @Test func s18_priority() throws {
        let w = Wire()
        for r in Self.priorityRules(hPriority: 100, lPriority: 1) { try w.engine.registerRule(r) }
        w.subscribe("dep.done", as: "S")
        try w.emit("process")
        #expect(w.pushes(for: "S").count == 1)

        let fresh = Wire()
        for r in Self.priorityRules(hPriority: 1, lPriority: 100) { try fresh.engine.registerRule(r) }
        fresh.subscribe("dep.done", as: "S")
        try fresh.emit("process")
        #expect(fresh.pushes.isEmpty)
    }

    @Test func s19_factTrigger() throws {
        let w = Wire()
        try w.engine.registerRule([
            "id": "f", "name": "f", "priority": 0, "enabled": true, "tags": [],
            "trigger": ["type": "fact", "pattern": "user:*:status"], "conditions": [],
            "actions": [emitAction("status.changed", ["v": ref("trigger.fact.value")])],
        ])
        try w.engine.registerRule(eventRule("mark", on: "mark", actions: [setFactAction("user:2:status", "x")]))
        w.subscribe("status.changed", as: "S")
        try w.call { try $0.setFact(key: "user:1:status", value: "online") }
        #expect(w.frames == ["push(S, status.changed)", "result"])
        #expect(w.pushes[0].event.data["v"] == "online")
        w.clear()
        try w.call { try $0.setFact(key: "user:1:name", value: "n") }
        try w.call { try $0.deleteFact("user:1:status") }
        try w.emit("mark")
        #expect(w.pushes.isEmpty)
    }

    @Test func s20_loopGuard() throws {
        let w = Wire()
        try w.engine.registerRule(eventRule("R", on: "ping", actions: [emitAction("ping")]))
        w.subscribe("ping", as: "S")
        let before = w.engine.stats()
        try w.emit("ping")
        #expect(w.frames == Array(repeating: "push(S, ping)", count: 11) + ["result"])
        #expect(w.engine.stats().rulesExecuted - before.rulesExecuted == 10)
        #expect(w.engine.stats().eventsProcessed - before.eventsProcessed == 11)

        let pair = Wire()
        try pair.engine.registerRule(eventRule("P", on: "ping", actions: [emitAction("pong")]))
        try pair.engine.registerRule(eventRule("Q", on: "pong", actions: [emitAction("ping")]))
        pair.subscribe("*", as: "ALL")
        try pair.emit("ping")
        #expect(pair.pushes.count == 11)
        #expect(pair.frames.last == "result")
    }

    @Test func s21_enableDisable() throws {
        let w = Wire()
        let v = try w.engine.registerRule(Self.r1).version
        w.subscribe("output.r1", as: "S")
        let disabled = try w.call { try $0.disableRule("r1") }
        #expect(!disabled.enabled && disabled.version == v)
        #expect(try w.engine.getRule("r1").json["enabled"] == false)
        try w.emit("t.x")
        #expect(w.pushes.isEmpty)
        let enabled = try w.call { try $0.enableRule("r1") }
        #expect(enabled.enabled && enabled.version == v)
        try w.emit("t.x")
        #expect(w.pushes.count == 1)
        #expect(throws: RulesError(.notFound, "Rule \"nope\" not found")) { try w.engine.enableRule("nope") }
        #expect(throws: RulesError(.notFound, "Rule \"nope\" not found")) { try w.engine.disableRule("nope") }
        var off = Self.r1.objectValue!
        off["id"] = "r2"
        off["enabled"] = false
        try w.engine.registerRule(.object(off))
        #expect(try w.engine.enableRule("r2").enabled)
    }

    @Test func s22_update() throws {
        let w = Wire()
        let v1 = try w.engine.registerRule(Self.r1).version
        w.subscribe("*", as: "S")
        let upd = try w.call { try $0.updateRule("r1", updates: ["priority": 200, "tags": ["updated"]]) }
        #expect(upd.updateResultJSON["id"] == "r1" && upd.version > v1 && upd.updateResultJSON["updatedAt"]?.isNumber == true)
        let stored = try w.engine.getRule("r1").json
        #expect(stored["priority"] == 200 && stored["tags"] == ["updated"])
        try w.engine.updateRule("r1", updates: ["actions": [emitAction("new-output.r1")]])
        try w.emit("t.x")
        #expect(w.pushes.map(\.event.topic) == ["t.x", "new-output.r1"])
        #expect(throws: RulesError(.internalError, "Rule 'nonexistent' not found")) {
            try w.engine.updateRule("nonexistent", updates: [:])
        }
        #expect(throws: RulesError.self) { try w.engine.updateRule("r1", updates: ["trigger": ["type": "bogus"]]) }
    }

    @Test func s23_unregisterAndFullCycle() throws {
        let w = Wire()
        try w.engine.registerRule(Self.r1)
        w.subscribe("output.r1", as: "S")
        try w.call { try $0.unregisterRule("r1") }
        try w.emit("t.x")
        #expect(w.pushes.isEmpty)
        #expect(throws: RulesError(.notFound, "Rule \"r1\" not found")) { try w.engine.getRule("r1") }
        #expect(w.engine.getRules().isEmpty)
        #expect(throws: RulesError(.notFound, "Rule \"r1\" not found")) { try w.engine.unregisterRule("r1") }

        try w.engine.registerRule(Self.r1)
        _ = try w.engine.getRule("r1")
        try w.engine.updateRule("r1", updates: ["name": "renamed"])
        try w.engine.disableRule("r1")
        try w.engine.enableRule("r1")
        #expect(w.engine.getRules().map(\.name) == ["renamed"])
        try w.engine.unregisterRule("r1")
        #expect(w.engine.getRules().isEmpty)
    }

    @Test func s24_timers() throws {
        let w = Wire()
        try w.engine.registerRule(eventRule("arm", on: "order.created", actions: [[
            "type": "set_timer",
            "timer": ["name": "pay:${event.orderId}", "duration": "200ms", "onExpire": ["topic": "order.timeout", "data": ["orderId": ref("event.orderId")]]],
        ]]))
        try w.engine.registerRule([
            "id": "tr", "name": "tr", "priority": 0, "enabled": true, "tags": [],
            "trigger": ["type": "timer", "name": "pay:*"], "conditions": [], "actions": [emitAction("timer.rule")],
        ])
        try w.engine.registerRule(eventRule("cancel", on: "payment.confirmed", actions: [["type": "cancel_timer", "name": "pay:${event.orderId}"]]))
        w.subscribe("*", as: "S")
        try w.emit("order.created", ["orderId": "A"], correlationId: "k")
        #expect(w.engine.stats().timersCount == 1)
        w.clear()
        w.h.advance(200)  // the loop's timer fires; no request involved
        #expect(w.frames == ["push(S, timer.rule)", "push(S, order.timeout)"])
        let (ruleEvent, timeout) = (w.pushes[0].event, w.pushes[1].event)
        #expect(ruleEvent.source == .rule && ruleEvent.correlationId == "k")
        #expect(timeout.data == ["orderId": "A"] && timeout.source == .timer && timeout.correlationId == "k")
        #expect(timeout.causationId?.isEmpty == false)
        #expect(w.engine.stats().timersCount == 0)

        // Variant: payment before expiry cancels the timer.
        try w.emit("order.created", ["orderId": "B"])
        try w.emit("payment.confirmed", ["orderId": "B"])
        w.clear()
        w.h.advance(1000)
        #expect(w.frames.isEmpty)
    }

    @Test func s25_validateAndAvailability() throws {
        let w = Wire()
        let ok = w.engine.validateRule(Self.r1)
        #expect(ok.json == ["valid": true, "errors": [], "warnings": []])
        var noActions = Self.r1.objectValue!
        noActions["actions"] = []
        let warn = w.engine.validateRule(.object(noActions))
        #expect(warn.valid && warn.warnings.map(\.path) == ["actions"])
        let bad = w.engine.validateRule(["id": "invalid"])
        #expect(!bad.valid && bad.errors.count >= 2)
        #expect(throws: RulesError.self) { try w.engine.getRule("invalid") }
        // Unavailable: a stopped engine answers RULES_NOT_AVAILABLE ("not configured" and
        // UNKNOWN_OPERATION / tiers are decided by the wire layer before the engine).
        w.engine.stop()
        let notRunning = RulesError(.notAvailable, "RuleEngine \"rule-engine\" is not running")
        #expect(throws: notRunning) { try w.engine.emit(topic: "x") }
        #expect(throws: notRunning) { try w.engine.setFact(key: "k", value: 1) }
        #expect(throws: notRunning) { try w.engine.deleteFact("k") }
        #expect(throws: notRunning) { try w.engine.registerRule(Self.r1) }
    }
}
