import NoexJSON

/// An in-process micro-benchmark: events per second through an engine holding `ruleCount`
/// rules. Meaningful only in a release build; the bundled bench package or a test can call it.
///
/// Rules `i = 0..<ruleCount` listen on `bench.<i % 10>` (10 rules per topic, every tenth on the
/// wildcard `bench.*` instead), check `amount > i * 10`, write the fact `bench:<i>` from the
/// event, and every tenth also emits `bench.out` (one chained pipeline step). One subscriber
/// on `*` counts deliveries, as a connected client would.
public enum RulesBenchmark {
    public struct Result: Sendable {
        public let events: Int
        public let rules: Int
        public let rulesExecuted: Int
        public let eventsProcessed: Int
        public let deliveries: Int
        public let seconds: Double
        public var eventsPerSecond: Double { seconds > 0 ? Double(events) / seconds : 0 }

        /// One greppable line, as the bench package prints its results.
        public var line: String {
            "rules-engine: \(Int(eventsPerSecond)) events/s (\(events) events, \(rules) rules, \(rulesExecuted) rule runs, \(eventsProcessed) pipeline events)"
        }
    }

    public static func run(ruleCount: Int = 100, events: Int = 100_000) -> Result {
        let engine = RuleEngine(config: RuleEngineConfig(log: { _, _ in }), clock: ManualRulesClock())
        for i in 0..<ruleCount {
            let topic = i % 10 == 9 ? "bench.*" : "bench.\(i % 10)"
            var actions: [JSON] = [["type": "set_fact", "key": .string("bench:\(i)"), "value": ["ref": "event.amount"]]]
            if i % 10 == 0 {
                actions.append(["type": "emit_event", "topic": "bench.out", "data": ["from": .int(Int64(i)), "id": ["ref": "event.id"]]])
            }
            let rule: JSON = [
                "id": .string("bench-\(i)"), "name": .string("bench \(i)"), "priority": .int(Int64(i % 7)),
                "enabled": true, "tags": ["bench"], "trigger": ["type": "event", "topic": .string(topic)],
                "conditions": [["source": ["type": "event", "field": "amount"], "operator": "gt", "value": .int(Int64(i * 10))]],
                "actions": .array(actions),
            ]
            _ = try? engine.registerRule(rule)
        }
        var deliveries = 0
        _ = engine.subscribe(pattern: "*") { _ in deliveries += 1 }
        let clock = ContinuousClock()
        let start = clock.now
        for n in 0..<events {
            let data: JSONObject = ["id": .int(Int64(n)), "amount": .int(Int64(n % 1000))]
            _ = try? engine.emit(topic: "bench.\(n % 10)", data: data)
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let stats = engine.stats()
        return Result(
            events: events, rules: ruleCount, rulesExecuted: stats.rulesExecuted,
            eventsProcessed: stats.eventsProcessed, deliveries: deliveries, seconds: seconds)
    }
}
