import NoexJSON
import Testing

@testable import NoexRules

/// The rules section of the recorded exchange with the original server (server started with
/// a large-order rule and the store bridge), replayed against the engine. Generated values
/// (`<eid>`, `<ts>`, `<uuid>`) are checked by type; everything else must match exactly.
struct TranscriptTests {
    /// The recorded frames' `data`, with placeholders where the original generated values.
    static func expected(_ text: String) -> JSON { try! JSON.parse(text) }

    /// Compares a value against a recorded one where the strings "<id>", "<ts>" and "<uuid>"
    /// stand for any string, any number, and any string.
    static func matches(_ actual: JSON, _ recorded: JSON) -> Bool {
        switch (actual, recorded) {
        case (.string, .string("<id>")), (.string, .string("<uuid>")): return true
        case (.int, .string("<ts>")), (.double, .string("<ts>")): return true
        case (.object(let a), .object(let r)):
            return a.count == r.count && r.allSatisfy { key, value in a[key].map { matches($0, value) } ?? false }
        case (.array(let a), .array(let r)):
            return a.count == r.count && zip(a, r).allSatisfy { matches($0, $1) }
        default:
            return actual == recorded
        }
    }

    static let largeOrderRule: JSON = [
        "id": "large-order", "name": "Large order", "priority": 10, "enabled": true, "tags": ["orders"],
        "trigger": ["type": "event", "topic": "order.created"],
        "conditions": [["source": ["type": "event", "field": "amount"], "operator": "gt", "value": 100]],
        "actions": [
            ["type": "set_fact", "key": "order:${event.orderId}:large", "value": true],
            ["type": "emit_event", "topic": "notification.large-order",
             "data": ["orderId": ["ref": "event.orderId"], "amount": ["ref": "event.amount"]]],
        ],
    ]

    @Test func rulesScenarioReplay() throws {
        let engine = RuleEngine(clock: ManualRulesClock())
        try engine.registerRule(Self.largeOrderRule)
        var pushesB: [JSON] = []
        var pushesC: [JSON] = []
        let subB = engine.subscribe(pattern: "notification.*") { pushesB.append(["topic": .string($0.topic), "event": $0.json]) }

        let r1 = try engine.emit(topic: "order.created", data: ["amount": 50, "orderId": "o-1"]).json
        #expect(Self.matches(r1, Self.expected(#"{"data": {"amount": 50, "orderId": "o-1"}, "id": "<id>", "source": "api", "timestamp": "<ts>", "topic": "order.created"}"#)))
        #expect(pushesB.isEmpty)

        let r2 = try engine.emit(topic: "order.created", data: ["amount": 250, "orderId": "o-2"]).json
        #expect(Self.matches(r2, Self.expected(#"{"data": {"amount": 250, "orderId": "o-2"}, "id": "<id>", "source": "api", "timestamp": "<ts>", "topic": "order.created"}"#)))
        #expect(pushesB.count == 1)
        #expect(Self.matches(pushesB[0], Self.expected(#"{"event": {"data": {"amount": 250, "orderId": "o-2"}, "id": "<id>", "source": "rule", "timestamp": "<ts>", "topic": "notification.large-order"}, "topic": "notification.large-order"}"#)))

        #expect(engine.getFact("order:o-2:large") == true)
        let f = try engine.setFact(key: "config:mode", value: "test").json
        #expect(Self.matches(f, Self.expected(#"{"key": "config:mode", "source": "api", "timestamp": "<ts>", "value": "test", "version": 1}"#)))
        #expect(engine.queryFacts("order:*").isEmpty)
        #expect(Self.matches(.array(engine.getAllFacts().map(\.json)), Self.expected(#"[{"key": "order:o-2:large", "source": "rule", "timestamp": "<ts>", "value": true, "version": 1}, {"key": "config:mode", "source": "api", "timestamp": "<ts>", "value": "test", "version": 1}]"#)))
        #expect(try engine.deleteFact("config:mode"))
        let r8 = try engine.emit(topic: "order.created").json
        #expect(Self.matches(r8, Self.expected(#"{"data": {}, "id": "<id>", "source": "api", "timestamp": "<ts>", "topic": "order.created"}"#)))

        _ = engine.subscribe(pattern: "bucket.users.*") { pushesC.append(["topic": .string($0.topic), "event": $0.json]) }
        let record = Self.expected(#"{"_createdAt": 1, "_updatedAt": 1, "_version": 1, "credits": 0, "id": "u-1", "name": "Frank", "role": "user"}"#)
        engine.emitStoreChange(bucket: "users", .inserted(key: "u-1", record: record))
        #expect(pushesC.count == 1)
        #expect(Self.matches(pushesC[0], Self.expected(#"{"event": {"data": {"bucket": "users", "key": "u-1", "record": {"_createdAt": 1, "_updatedAt": 1, "_version": 1, "credits": 0, "id": "u-1", "name": "Frank", "role": "user"}, "type": "inserted"}, "id": "<id>", "source": "api", "timestamp": "<ts>", "topic": "bucket.users.inserted"}, "topic": "bucket.users.inserted"}"#)))
        #expect(engine.unsubscribe(subB))

        #expect(Self.matches(engine.stats().json, Self.expected(#"{"avgProcessingTimeMs": "<ts>", "eventsProcessed": 5, "factsCount": 1, "rulesCount": 1, "rulesExecuted": 1, "timersCount": 0, "tracing": {"enabled": false, "entriesCount": 0, "maxEntries": 10000}}"#)))
    }
}
