import NoexJSON
import Testing

@testable import NoexRules

/// An engine on a manual clock, with its log captured and every delivered event recorded by a
/// catch-all subscriber when `recordAll` is set.
final class Harness {
    let clock = ManualRulesClock()
    let engine: RuleEngine
    var logs: [(RulesLogLevel, String)] = []
    var delivered: [RuleEvent] = []
    var deadlines: [Int64?] = []

    init(
        recordAll: Bool = true, maxForwardDepth: Int = 10,
        services: [String: [String: RulesServiceMethod]] = [:]
    ) {
        let box = LogBox()
        engine = RuleEngine(
            config: RuleEngineConfig(
                maxForwardDepth: maxForwardDepth, services: services,
                log: { level, message in box.entries.append((level, message)) }),
            clock: clock)
        logBox = box
        engine.onTimerDeadlineChanged = { [unowned self] in self.deadlines.append($0) }
        if recordAll {
            _ = engine.subscribe(pattern: "*") { [unowned self] in self.delivered.append($0) }
        }
    }

    private let logBox: LogBox
    var logEntries: [(RulesLogLevel, String)] { logBox.entries }

    var topics: [String] { delivered.map(\.topic) }

    @discardableResult
    func emit(_ topic: String, _ data: JSONObject = [:], correlationId: String? = nil) -> RuleEvent {
        try! engine.emit(topic: topic, data: data, correlationId: correlationId)
    }

    @discardableResult
    func register(_ rule: JSON) throws -> Rule { try engine.registerRule(rule) }

    /// Advances the manual clock and fires whatever became due.
    @discardableResult
    func advance(_ ms: Int64) -> Int {
        clock.advance(byMs: ms)
        return engine.fireDueTimers()
    }
}

final class LogBox {
    var entries: [(RulesLogLevel, String)] = []
}

/// A rule on an event topic with the given actions (and conditions).
func eventRule(
    _ id: String, on topic: String, priority: Int64 = 0, conditions: [JSON] = [], actions: [JSON]
) -> JSON {
    [
        "id": .string(id), "name": .string("Rule \(id)"), "priority": .int(priority), "enabled": true,
        "tags": [], "trigger": ["type": "event", "topic": .string(topic)],
        "conditions": .array(conditions), "actions": .array(actions),
    ]
}

func emitAction(_ topic: String, _ data: JSONObject = [:]) -> JSON {
    ["type": "emit_event", "topic": .string(topic), "data": .object(data)]
}

func setFactAction(_ key: String, _ value: JSON) -> JSON {
    ["type": "set_fact", "key": .string(key), "value": value]
}

func cond(_ source: JSON, _ op: String, _ value: JSON? = nil) -> JSON {
    var o: JSONObject = ["source": source, "operator": .string(op)]
    if let value { o["value"] = value }
    return .object(o)
}

func eventField(_ field: String) -> JSON { ["type": "event", "field": .string(field)] }
func factSource(_ pattern: String) -> JSON { ["type": "fact", "pattern": .string(pattern)] }
func ref(_ path: String) -> JSON { ["ref": .string(path)] }
