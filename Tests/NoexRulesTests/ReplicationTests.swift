import NoexJSON
import Testing

@testable import NoexRules

/// What cluster mode needs from the engine (docs/rules.md#in-a-cluster): two engines with
/// different clocks and id sources, fed the same inputs inside `withDecisions`, produce the same
/// events, facts, rules and timers; `replicatedState()` moves the whole state to a third engine.
struct ReplicationTests {
    static let rules: [JSON] = [
        ["id": "arm", "name": "arm", "trigger": ["type": "event", "topic": "order.created"],
         "actions": [["type": "set_fact", "key": "order:${event.id}", "value": ["ref": "event.id"]],
                     ["type": "set_timer", "timer": ["name": "pay:${event.id}", "duration": "5s", "repeat": ["interval": "1s", "maxCount": 3],
                                                     "onExpire": ["topic": "order.timeout", "data": ["id": ["ref": "event.id"]]]]]]],
        ["id": "late", "name": "late", "priority": 0, "trigger": ["type": "event", "topic": "order.timeout"],
         "actions": [["type": "set_fact", "key": "late:${event.id}", "value": true]]],
    ]

    /// One entry's worth of work at `at` with `seed`.
    static func apply(_ h: Harness, at: Int64, seed: UInt64, _ body: (RuleEngine) throws -> Void) rethrows {
        try h.engine.withDecisions(nowMs: at, idSeed: seed) { try body(h.engine) }
    }

    static func feed(_ h: Harness) throws {
        try apply(h, at: 1_000, seed: 1) { e in for r in rules { _ = try e.registerRule(r) } }
        try apply(h, at: 2_000, seed: 2) { e in _ = try e.emit(topic: "order.created", data: ["id": "o1"]) }
        try apply(h, at: 2_500, seed: 3) { e in _ = try e.setFact(key: "k", value: 1) }
        try apply(h, at: 7_100, seed: 4) { e in _ = e.fireDueTimers() }
        try apply(h, at: 8_200, seed: 5) { e in _ = e.fireDueTimers() }
        try apply(h, at: 8_300, seed: 6) { e in _ = try e.updateRule("late", updates: ["priority": 3]) }
    }

    @Test func theSameInputsWithTheSameDecisionsGiveTheSameEngine() throws {
        let a = Harness(), b = Harness()
        a.clock.set(9_999_999)
        b.clock.set(123)
        try Self.feed(a)
        try Self.feed(b)
        #expect(a.delivered.map(\.json) == b.delivered.map(\.json))
        #expect(a.topics == ["order.created", "order.timeout", "order.timeout"] && a.delivered.last?.timestamp == 8_200, "\(a.topics)")
        #expect(a.engine.replicatedState() == b.engine.replicatedState())
        #expect(a.engine.fact("k")?.timestamp == 2_500)
        #expect(try a.engine.getRule("late").updatedAt == 8_300)
        #expect(a.engine.getTimer("pay:o1")?.expiresAt == 9_200)  // rescheduled 1 s after the 8_200 firing
        // Outside withDecisions the engine reads its own clock again.
        #expect(try a.engine.setFact(key: "local", value: 1).timestamp == 9_999_999)
    }

    @Test func replicatedStateMovesEveryPartToAnotherEngine() throws {
        let a = Harness()
        try Self.feed(a)
        try Self.apply(a, at: 8_400, seed: 7) { e in try e.unregisterRule("arm") }
        let c = Harness()
        try c.engine.restoreReplicatedState(try JSON.parse(a.engine.replicatedState().serializedBytes))
        #expect(c.engine.replicatedState() == a.engine.replicatedState())
        #expect(c.engine.getRules().map(\.id) == ["late"])
        // Both go on identically: the next rule version and the timer table came along.
        for h in [a, c] {
            try Self.apply(h, at: 9_300, seed: 8) { e in
                _ = e.fireDueTimers()
                _ = try e.registerRule(Self.rules[0])
            }
        }
        #expect(c.engine.replicatedState() == a.engine.replicatedState())
        #expect(try c.engine.getRule("arm").version == a.engine.getRule("arm").version)
        #expect(c.engine.fact("late:o1") != nil && c.delivered.map(\.json) == Array(a.delivered.suffix(c.delivered.count)).map(\.json))
    }
}
