import NoexJSON
import Testing

@testable import NoexRules

/// Engine semantics of docs/rules.md#semantics-in-brief: ordering, chaining, the depth guard, error containment,
/// timers, subscriptions, administration, config and the store bridge.
struct EngineTests {
    // MARK: Ordering and chaining

    @Test func priorityOrderWithIndexTieOrder() throws {
        let h = Harness()
        try h.register(eventRule("wild1", on: "a.*", priority: 5, actions: [emitAction("w1")]))
        try h.register(eventRule("exact1", on: "a.b", priority: 5, actions: [emitAction("e1")]))
        try h.register(eventRule("high", on: "a.*", priority: 9, actions: [emitAction("h")]))
        try h.register(eventRule("exact2", on: "a.b", priority: 5, actions: [emitAction("e2")]))
        try h.register(eventRule("low", on: "a.b", priority: -1, actions: [emitAction("l")]))
        h.emit("a.b")
        // priority desc; ties: exact rules first (registration order), then wildcard patterns.
        #expect(h.topics == ["a.b", "h", "e1", "e2", "w1", "l"])
    }

    @Test func chainsRunDepthFirstBeforeTheNextAction() throws {
        let h = Harness()
        try h.register(eventRule("hi", on: "T", priority: 10, actions: [emitAction("A"), emitAction("B")]))
        try h.register(eventRule("lo", on: "T", priority: 1, actions: [emitAction("C")]))
        try h.register(eventRule("onA", on: "A", actions: [emitAction("A1"), emitAction("A2")]))
        h.emit("T")
        // Sequential model (documented divergence from the original's T A C A1 A2 B).
        #expect(h.topics == ["T", "A", "A1", "A2", "B", "C"])
    }

    @Test func laterRulesSeeEarlierRulesEffects() throws {
        let h = Harness()
        try h.register(eventRule("L", on: "p", priority: 1, conditions: [cond(factSource("flag"), "eq", true)], actions: [emitAction("seen")]))
        try h.register(eventRule("H", on: "p", priority: 100, actions: [emitAction("x"), setFactAction("flag", true)]))
        h.emit("p")
        #expect(h.topics == ["p", "x", "seen"])
    }

    @Test func depthGuardStopsLinearCycle() throws {
        let h = Harness()
        try h.register(eventRule("R", on: "ping", actions: [emitAction("ping")]))
        h.emit("ping")
        #expect(h.topics == Array(repeating: "ping", count: 11))
        #expect(h.engine.stats().rulesExecuted == 10)
        #expect(h.engine.stats().eventsProcessed == 11)
        h.emit("ping")  // the guard is per chain: it works again
        #expect(h.topics.count == 22)
    }

    @Test func depthGuardHonoursConfig() throws {
        let h = Harness(maxForwardDepth: 3)
        try h.register(eventRule("R", on: "ping", actions: [emitAction("ping")]))
        h.emit("ping")
        #expect(h.engine.stats().rulesExecuted == 3)
        #expect(h.topics.count == 4)
    }

    @Test func levelChainReachesOnlyTenLevels() throws {
        let h = Harness()
        for i in 0..<15 {
            try h.register(eventRule("l\(i)", on: "level:\(i)", actions: [emitAction("reached:\(i)"), emitAction("level:\(i + 1)")]))
        }
        h.emit("level:0")
        let reached = h.topics.filter { $0.hasPrefix("reached:") }
        #expect(reached == (0..<10).map { "reached:\($0)" })
    }

    @Test func fanOutCycleIsBounded() throws {
        let h = Harness()
        try h.register(eventRule("a", on: "ping", actions: [emitAction("ping")]))
        try h.register(eventRule("b", on: "ping", actions: [emitAction("ping")]))
        h.emit("ping")
        #expect(h.engine.stats().rulesExecuted == 1000)
        h.emit("other")  // the engine is still usable
        #expect(h.topics.last == "other")
    }

    // MARK: Error containment

    @Test func failingConditionSkipsOnlyThatRule() throws {
        let h = Harness()
        try h.register(eventRule("bad", on: "t", priority: 2, conditions: [cond(factSource("${foo.x}"), "exists")], actions: [emitAction("bad")]))
        try h.register(eventRule("good", on: "t", priority: 1, actions: [emitAction("good")]))
        h.emit("t")
        #expect(h.topics == ["t", "good"])
        #expect(h.engine.stats().rulesExecuted == 1)
        #expect(h.engine.containedErrorCount == 1)
        #expect(h.logEntries.contains { $0.1.hasPrefix("Error executing rule \"Rule bad\" (bad)") })
    }

    @Test func failingActionDoesNotStopTheNext() throws {
        let h = Harness()
        try h.register(eventRule("r", on: "t", actions: [
            ["type": "call_service", "service": "none", "method": "m", "args": []],
            emitAction("after", ["x": ref("unknown.head")]),
            emitAction("next"),
        ]))
        h.emit("t")
        #expect(h.topics == ["t", "next"])
        #expect(h.engine.stats().rulesExecuted == 1)
        #expect(h.engine.containedErrorCount == 2)
    }

    @Test func temporalRuleRegistersButNeverFires() throws {
        let h = Harness()
        try h.register([
            "id": "cep", "name": "cep", "priority": 0, "enabled": true, "tags": [],
            "trigger": ["type": "temporal", "pattern": ["type": "sequence", "events": [["topic": "a"], ["topic": "b"]], "within": "5m"]],
            "conditions": [], "actions": [emitAction("cep.fired")],
        ])
        h.emit("a")
        h.emit("b")
        #expect(!h.topics.contains("cep.fired"))
        #expect(h.engine.stats().rulesCount == 1)
    }

    @Test func ruleTopicStarIsSingleSegment() throws {
        let h = Harness()
        try h.register(eventRule("r", on: "*", actions: [emitAction("hit.x")]))
        h.emit("single")
        h.emit("a.b")
        #expect(h.topics == ["single", "hit.x", "a.b"])
    }

    // MARK: Facts

    @Test func factRulesOnlyForApiSetFact() throws {
        let h = Harness()
        try h.register([
            "id": "f", "name": "f", "priority": 0, "enabled": true, "tags": [],
            "trigger": ["type": "fact", "pattern": "user:*:status"], "conditions": [],
            "actions": [emitAction("status.changed", ["v": ref("trigger.fact.value"), "k": ref("event.fact.key")])],
        ])
        try h.register(eventRule("mark", on: "mark", actions: [setFactAction("user:2:status", "x")]))
        try h.engine.setFact(key: "user:1:status", value: "online")
        #expect(h.topics == ["status.changed"])
        #expect(h.delivered[0].data == ["v": "online", "k": "user:1:status"])
        try h.engine.setFact(key: "user:1:name", value: "n")
        try h.engine.deleteFact("user:1:status")
        h.emit("mark")
        #expect(h.topics == ["status.changed", "mark"])
    }

    @Test func factVersions() throws {
        let h = Harness()
        #expect(try h.engine.setFact(key: "k", value: 1).version == 1)
        #expect(try h.engine.setFact(key: "k", value: 2).version == 2)
        #expect(try h.engine.deleteFact("k"))
        #expect(try !h.engine.deleteFact("k"))
        #expect(try h.engine.setFact(key: "k", value: .null).version == 1)
        #expect(h.engine.getFact("k") == .null)
    }

    // MARK: Timers

    @Test func timerRulesRunBeforeTheExpiryEvent() throws {
        let h = Harness()
        try h.register(eventRule("arm", on: "order.created", actions: [[
            "type": "set_timer",
            "timer": ["name": "pay:${event.orderId}", "duration": "200ms", "onExpire": ["topic": "order.timeout", "data": ["orderId": ref("event.orderId")]]],
        ]]))
        try h.register([
            "id": "tr", "name": "tr", "priority": 0, "enabled": true, "tags": [],
            "trigger": ["type": "timer", "name": "pay:*"], "conditions": [],
            "actions": [emitAction("timer.rule", ["name": ref("trigger.timerName"), "order": ref("event.orderId")])],
        ])
        let start = h.clock.now
        h.emit("order.created", ["orderId": "A"], correlationId: "k")
        #expect(h.deadlines == [start + 200])
        #expect(h.engine.nextTimerDeadlineMs == start + 200)
        #expect(h.advance(200) == 1)
        #expect(h.topics == ["order.created", "timer.rule", "order.timeout"])
        let timerId = try #require(h.delivered[2].causationId)
        #expect(h.delivered[1].data == ["name": "pay:A", "order": "A"])
        #expect(h.delivered[1].source == .rule && h.delivered[1].correlationId == "k")
        #expect(h.delivered[2].source == .timer && h.delivered[2].correlationId == "k" && h.delivered[2].data == ["orderId": "A"])
        #expect(!timerId.isEmpty)
        #expect(h.deadlines == [start + 200, nil])
    }

    @Test func sameNameReplacesTimer() throws {
        let h = Harness()
        let cfg: JSON = ["name": "t", "duration": 100, "onExpire": ["topic": "x", "data": [:]]]
        let first = try h.engine.setTimer(cfg)
        h.clock.advance(byMs: 50)
        let second = try h.engine.setTimer(cfg)
        #expect(first.id != second.id)
        #expect(h.advance(50) == 0)  // the first one was cancelled
        #expect(h.advance(50) == 1)
        #expect(h.topics == ["x"])
    }

    @Test func repeatingTimerHonoursMaxCount() throws {
        let h = Harness()
        try h.engine.setTimer(["name": "tick", "duration": 10, "repeat": ["interval": "10ms", "maxCount": 3], "onExpire": ["topic": "tick", "data": [:]]])
        for _ in 0..<5 { h.advance(10) }
        #expect(h.topics == ["tick", "tick", "tick"])
        #expect(h.engine.stats().timersCount == 0)
    }

    @Test func ruleMayReArmItsOwnTimer() throws {
        let h = Harness()
        let arm: JSON = ["type": "set_timer", "timer": ["name": "tick", "duration": 10, "onExpire": ["topic": "tick", "data": [:]]]]
        try h.register(eventRule("start", on: "start", actions: [arm]))
        try h.register(eventRule("again", on: "tick", actions: [arm]))
        h.emit("start")
        for _ in 0..<3 { h.advance(10) }
        #expect(h.topics == ["start", "tick", "tick", "tick"])  // the original loses the re-arm (Q6b)
        #expect(h.engine.stats().timersCount == 1)
    }

    @Test func dueTimersFireInDeadlineOrder() throws {
        let h = Harness()
        for (name, ms) in [("c", 30), ("a", 10), ("b", 20)] {
            try h.engine.setTimer(["name": .string(name), "duration": .int(Int64(ms)), "onExpire": ["topic": .string(name), "data": [:]]])
        }
        #expect(h.advance(100) == 3)
        #expect(h.topics == ["a", "b", "c"])
    }

    // MARK: Subscriptions

    @Test func subscriberDeliveryOrder() throws {
        let h = Harness(recordAll: false)
        var seen: [String] = []
        _ = h.engine.subscribe(pattern: "order.*") { _ in seen.append("w1") }
        let exact = h.engine.subscribe(pattern: "order.created") { _ in seen.append("x1") }
        _ = h.engine.subscribe(pattern: "*") { _ in seen.append("star") }
        _ = h.engine.subscribe(pattern: "order.*") { _ in seen.append("w2") }
        _ = h.engine.subscribe(pattern: "order.created") { _ in seen.append("x2") }
        h.emit("order.created")
        #expect(seen == ["x1", "x2", "w1", "w2", "star"])
        seen = []
        #expect(h.engine.unsubscribe(exact))
        #expect(!h.engine.unsubscribe(exact))
        h.emit("order.created")
        #expect(seen == ["x2", "w1", "w2", "star"])
    }

    @Test func patternLosesItsPlaceWhenEmptied() throws {
        let h = Harness(recordAll: false)
        var seen: [String] = []
        let a = h.engine.subscribe(pattern: "a.*") { _ in seen.append("a1") }
        _ = h.engine.subscribe(pattern: "*") { _ in seen.append("star") }
        h.engine.unsubscribe(a)
        _ = h.engine.subscribe(pattern: "a.*") { _ in seen.append("a2") }
        h.emit("a.x")
        #expect(seen == ["star", "a2"])
    }

    @Test func subscribersSeeEventsBeforeRulesReact() throws {
        let h = Harness(recordAll: false)
        var order: [String] = []
        try h.register(eventRule("r", on: "in", actions: [setFactAction("seen", true)]))
        _ = h.engine.subscribe(pattern: "in") { _ in order.append(h.engine.getFact("seen") == nil ? "before" : "after") }
        h.emit("in")
        #expect(order == ["before"])
    }

    @Test func reentrantEmitIsQueued() throws {
        let h = Harness(recordAll: false)
        var seen: [String] = []
        try h.register(eventRule("r", on: "first", actions: [emitAction("chained")]))
        _ = h.engine.subscribe(pattern: "*") { event in
            seen.append(event.topic)
            if event.topic == "first" { try! h.engine.emit(topic: "from-handler") }
        }
        h.emit("first")
        #expect(seen == ["first", "chained", "from-handler"])
    }

    // MARK: Lifecycle and stats

    @Test func stoppedEngineReportsNotRunning() throws {
        let h = Harness()
        h.engine.stop()
        #expect(throws: RulesError(.notAvailable, "RuleEngine \"rule-engine\" is not running")) {
            try h.engine.emit(topic: "x")
        }
        #expect(throws: RulesError.self) { try h.engine.setFact(key: "k", value: 1) }
        #expect(throws: RulesError.self) { try h.engine.registerRule(eventRule("r", on: "t", actions: [])) }
        #expect(h.engine.stats().eventsProcessed == 0)
        h.engine.start()
        h.emit("x")
        #expect(h.engine.stats().eventsProcessed == 1)
    }

    @Test func statsShape() throws {
        let h = Harness()
        #expect(
            h.engine.stats().json == [
                "rulesCount": 0, "factsCount": 0, "timersCount": 0, "eventsProcessed": 0, "rulesExecuted": 0,
                "avgProcessingTimeMs": 0, "tracing": ["enabled": false, "entriesCount": 0, "maxEntries": 10000],
            ])
    }

    // MARK: Administration

    @Test func versionsComeFromOneCounter() throws {
        let h = Harness()
        let a = try h.register(eventRule("A", on: "t", actions: []))
        let b = try h.register(eventRule("B", on: "t", actions: []))
        h.clock.advance(byMs: 5)
        let a2 = try h.engine.updateRule("A", updates: ["priority": 7])
        #expect([a.version, b.version, a2.version] == [1, 2, 3])
        #expect(a2.createdAt == a.createdAt + 5 && a2.updatedAt == a2.createdAt)
        #expect(h.engine.getRules().map(\.id) == ["B", "A"])
        let disabled = try h.engine.disableRule("A")
        #expect(disabled.version == 3 && !disabled.enabled)
        #expect(try h.engine.getRule("A").json["enabled"] == false)
    }

    @Test func adminErrors() throws {
        let h = Harness()
        try h.register(eventRule("r1", on: "t", actions: []))
        #expect(throws: RulesError(.alreadyExists, "Rule \"r1\" already exists")) { try h.register(eventRule("r1", on: "t", actions: [])) }
        #expect(throws: RulesError(.notFound, "Rule \"x\" not found")) { try h.engine.unregisterRule("x") }
        #expect(throws: RulesError(.notFound, "Rule \"x\" not found")) { try h.engine.enableRule("x") }
        #expect(throws: RulesError(.notFound, "Rule \"x\" not found")) { try h.engine.getRule("x") }
        #expect(throws: RulesError(.internalError, "Rule 'x' not found")) { try h.engine.updateRule("x", updates: [:]) }
        do {
            _ = try h.engine.updateRule("r1", updates: ["trigger": ["type": "bogus"]])
            Issue.record("expected a validation error")
        } catch {
            #expect(error.code == .validation && error.message == "Rule validation failed")
            #expect(error.details?.arrayValue?.first?["path"] == "trigger.type")
        }
        #expect(try h.engine.getRule("r1").version == 1)  // a failed update changes nothing
        var grouped = eventRule("g", on: "t", actions: []).objectValue!
        grouped["group"] = "billing"
        #expect(throws: RulesError.self) { try h.engine.registerRule(.object(grouped)) }
        h.engine.setGroup("billing", enabled: false)
        grouped["actions"] = [emitAction("g.fired")]
        try h.engine.registerRule(.object(grouped))
        h.emit("t")
        #expect(!h.topics.contains("g.fired"))
        h.engine.setGroup("billing", enabled: true)
        h.emit("t")
        #expect(h.topics.contains("g.fired"))
    }

    @Test func defaultsFilledAndExtraFieldsKept() throws {
        let h = Harness()
        let rule = try h.register(["id": "m", "name": "minimal", "trigger": ["type": "event", "topic": "t"], "custom": ["x": 1]])
        #expect(rule.json["tags"] == [] && rule.json["enabled"] == true && rule.json["priority"] == 0)
        #expect(rule.json["custom"] == ["x": 1])
        #expect(rule.summaryJSON == ["id": "m", "name": "minimal", "enabled": true, "priority": 0, "version": 1, "tags": []])
    }

    // MARK: Config and bridge

    @Test func loadConfig() throws {
        let h = Harness()
        try h.engine.load(config: [
            "rules": [
                eventRule("large", on: "order.created", conditions: [cond(eventField("amount"), "gt", 100)], actions: [
                    setFactAction("order:${event.orderId}:large", true),
                    emitAction("notification.large-order", ["orderId": ref("event.orderId"), "amount": ref("event.amount")]),
                ])
            ],
            "facts": ["config:mode": "test"],
            "timers": [["name": "boot", "duration": "1s", "onExpire": ["topic": "boot.done", "data": [:]]]],
        ])
        #expect(h.engine.getFact("config:mode") == "test")
        #expect(h.engine.stats().timersCount == 1 && h.engine.stats().rulesCount == 1)
        h.emit("order.created", ["amount": 250, "orderId": "o-2"])
        #expect(h.topics.last == "notification.large-order")
        #expect(h.engine.getFact("order:o-2:large") == true)
        h.advance(1000)
        #expect(h.topics.last == "boot.done")
    }

    @Test func loadConfigRejectsBeforeApplying() throws {
        let h = Harness()
        do {
            try h.engine.load(config: ["rules": [eventRule("ok", on: "t", actions: []), ["id": "bad"]], "facts": ["k": 1]])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .validation && error.message == "rules[1]: Rule validation failed")
        }
        #expect(h.engine.stats().rulesCount == 0 && h.engine.stats().factsCount == 0)
        #expect(throws: RulesError.self) { try h.engine.load(config: ["facts": [["key": 1]]]) }
        #expect(throws: RulesError.self) { try h.engine.load(config: ["timers": [["name": "t", "duration": "5x", "onExpire": ["topic": "x"]]]]) }
        #expect(throws: RulesError.self) { try h.engine.load(config: ["rules": [eventRule("d", on: "t", actions: []), eventRule("d", on: "t", actions: [])]]) }
    }

    @Test func storeBridgeTopicsAndPayloads() throws {
        let h = Harness()
        let record: JSON = ["id": "u1", "name": "Frank", "_version": 1]
        let ev = try #require(h.engine.emitStoreChange(bucket: "users", .inserted(key: "u1", record: record)))
        #expect(ev.topic == "bucket.users.inserted" && ev.source == .api)
        #expect(ev.data == ["type": "inserted", "bucket": "users", "key": "u1", "record": record])
        h.engine.emitStoreChange(bucket: "users", .updated(key: "u1", oldRecord: record, newRecord: ["id": "u1"]))
        #expect(h.delivered.last?.data == ["type": "updated", "bucket": "users", "key": "u1", "oldRecord": record, "newRecord": ["id": "u1"]])
        h.engine.emitStoreChange(bucket: "users", .deleted(key: "u1", record: record))
        #expect(h.topics == ["bucket.users.inserted", "bucket.users.updated", "bucket.users.deleted"])
        h.engine.stop()
        #expect(h.engine.emitStoreChange(bucket: "users", .deleted(key: "u1", record: record)) == nil)
    }
}

struct TimerTableTests {
    @Test func staleDeadlinesAreCompacted() throws {
        let h = Harness(recordAll: false)
        for i in 0..<1000 {
            h.clock.advance(byMs: 1)
            try h.engine.setTimer(["name": "debounce", "duration": 100, "onExpire": ["topic": "d", "data": ["i": .int(Int64(i))]]])
        }
        #expect(h.engine.timers.heapSize <= 65)
        #expect(h.engine.stats().timersCount == 1)
        var got: [RuleEvent] = []
        _ = h.engine.subscribe(pattern: "d") { got.append($0) }
        #expect(h.advance(100) == 1)
        #expect(got.map(\.data) == [["i": 999]])
    }
}

struct BenchmarkSmokeTests {
    /// The benchmark runs the real engine; a small run checks its bookkeeping, not its speed.
    @Test func benchmarkRuns() {
        let r = RulesBenchmark.run(ruleCount: 100, events: 200)
        #expect(r.events == 200 && r.rules == 100)
        #expect(r.rulesExecuted > 0)
        #expect(r.eventsProcessed > 200)  // the bench.out chain adds pipeline events
        #expect(r.deliveries == r.eventsProcessed)
        #expect(r.line.hasPrefix("rules-engine: "))
    }
}

struct LookupAndQueueTests {
    func lookupRule(onError: String?) -> JSON {
        var lookup: JSONObject = ["name": "profile", "service": "users", "method": "get", "args": [ref("event.userId")]]
        if let onError { lookup["onError"] = .string(onError) }
        var rule = eventRule("lk", on: "login", conditions: [
            cond(["type": "lookup", "name": "profile", "field": "tier"], "eq", "gold")
        ], actions: [emitAction("vip", ["name": ref("lookup.profile.name")])]).objectValue!
        rule["lookups"] = [.object(lookup)]
        return .object(rule)
    }

    @Test func lookupsResolveThroughServices() throws {
        let h = Harness(services: ["users": ["get": { args in
            guard args.first == "u1" else { throw LookupFailure() }
            return ["tier": "gold", "name": "Ann"]
        }]])
        try h.register(lookupRule(onError: nil))
        h.emit("login", ["userId": "u1"])
        #expect(h.delivered.last?.topic == "vip" && h.delivered.last?.data == ["name": "Ann"])
        h.emit("login", ["userId": "u2"])  // lookup fails: skipped silently (onError skip)
        #expect(h.topics == ["login", "vip", "login"])
        #expect(h.engine.containedErrorCount == 0)
    }

    @Test func lookupFailureWithFailIsAContainedError() throws {
        let h = Harness()  // no services at all, like the stock server
        try h.register(lookupRule(onError: "fail"))
        h.emit("login", ["userId": "u1"])
        #expect(h.topics == ["login"])
        #expect(h.engine.containedErrorCount == 1)
        #expect(h.engine.stats().rulesExecuted == 0)
    }

    @Test func setFactFromHandlerRunsAfterTheCurrentTrigger() throws {
        let h = Harness(recordAll: false)
        var order: [String] = []
        try h.register([
            "id": "f", "name": "f", "priority": 0, "enabled": true, "tags": [],
            "trigger": ["type": "fact", "pattern": "k"], "conditions": [], "actions": [emitAction("fact.rule")],
        ])
        try h.register(eventRule("r", on: "go", actions: [emitAction("go.rule")]))
        _ = h.engine.subscribe(pattern: "*") { event in
            order.append(event.topic)
            if event.topic == "go" { try! h.engine.setFact(key: "k", value: 1) }
        }
        h.emit("go")
        #expect(order == ["go", "go.rule", "fact.rule"])
        #expect(h.engine.getFact("k") == 1)  // stored at once; only its rules wait
    }

    @Test func timerRuleConditionsSeeTimerData() throws {
        let h = Harness()
        try h.register([
            "id": "t", "name": "t", "priority": 0, "enabled": true, "tags": [],
            "trigger": ["type": "timer", "name": "reminder:*"],
            "conditions": [cond(eventField("kind"), "eq", "soft"), cond(eventField("timerName"), "eq", "reminder:1")],
            "actions": [emitAction("reminded", ["id": ref("trigger.timerId")])],
        ])
        let timer = try h.engine.setTimer(["name": "reminder:1", "duration": "1s", "onExpire": ["topic": "reminder", "data": ["kind": "soft"]]])
        try h.engine.setTimer(["name": "reminder:2", "duration": "1s", "onExpire": ["topic": "reminder", "data": ["kind": "soft"]]])
        h.advance(1000)
        #expect(h.topics == ["reminded", "reminder", "reminder"])
        #expect(h.delivered[0].data == ["id": .string(timer.id)])
    }
}

struct LookupFailure: Error {}

struct SubscriberMatchingTests {
    /// The registry's pre-split matching agrees with matcher (b) for every pattern/topic pair.
    @Test func registryAgreesWithMatcher() {
        let patterns = ["*", "order.*", "a.*.c", "*.b", "ord*", "bucket.*.*", "x", "a.*"]
        let topics = ["order", "order.created", "order.created.v2", "a.b.c", "a.b", "x.b", "ord*", "bucket.users.inserted", "x", "a"]
        let engine = RuleEngine(config: RuleEngineConfig(log: { _, _ in }), clock: ManualRulesClock())
        var got: [String: [String]] = [:]
        for p in patterns { _ = engine.subscribe(pattern: p) { got[p, default: []].append($0.topic) } }
        for t in topics { _ = try? engine.emit(topic: t) }
        for p in patterns {
            #expect(got[p, default: []] == topics.filter { Patterns.matchesSubscription(p, $0) }, "\(p)")
        }
    }
}
