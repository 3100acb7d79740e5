import NoexJSON
import Testing

@testable import NoexRules

/// The validator's paths and messages (docs/protocol/rule-format.md).
struct ValidationTests {
    func errors(_ rule: JSON) -> [String] {
        RuleValidator.validate(rule).errors.map { "\($0.path): \($0.message)" }
    }

    let valid: JSON = eventRule("r", on: "t", actions: [emitAction("out")])

    @Test func validRule() {
        let r = RuleValidator.validate(valid)
        #expect(r.valid && r.errors.isEmpty && r.warnings.isEmpty)
        #expect(r.json == ["valid": true, "errors": [], "warnings": []])
    }

    @Test func onlyId() {
        let r = RuleValidator.validate(["id": "invalid"])
        #expect(!r.valid)
        #expect(
            r.json == [
                "valid": false,
                "errors": [
                    ["path": "name", "message": "Required field \"name\" is missing", "severity": "error"],
                    ["path": "trigger", "message": "Required field \"trigger\" is missing", "severity": "error"],
                ],
                "warnings": [],
            ])
    }

    @Test func notAnObject() {
        #expect(errors([1]) == ["(root): Rule must be an object"])
    }

    @Test func topLevelFields() {
        let r: JSON = [
            "id": " ", "name": 5, "trigger": ["type": "event", "topic": "t"], "description": 1, "priority": "high",
            "enabled": "yes", "tags": ["a", 1], "group": "",
        ]
        #expect(
            errors(r) == [
                "id: Field \"id\" cannot be empty", "name: Field \"name\" must be a string",
                "description: Field \"description\" must be a string", "priority: Field \"priority\" must be a number",
                "enabled: Field \"enabled\" must be a boolean", "tags[1]: Tag must be a string",
                "group: Field \"group\" cannot be empty",
            ])
    }

    @Test func warnings() {
        let r = RuleValidator.validate(["id": "a", "name": "b", "trigger": ["type": "event", "topic": "t"], "priority": 1.5, "actions": []])
        #expect(r.valid)
        #expect(r.warnings.map(\.path) == ["priority", "actions"])
        #expect(r.warnings.map(\.message) == ["Field \"priority\" should be an integer", "Rule has no actions"])
    }

    @Test func triggers() {
        func trig(_ t: JSON) -> [String] { errors(["id": "a", "name": "b", "trigger": t]) }
        #expect(trig("x") == ["trigger: Trigger must be an object"])
        #expect(trig([:]) == ["trigger.type: Trigger must have a \"type\" field"])
        #expect(trig(["type": 1]) == ["trigger.type: Trigger type must be a string"])
        #expect(trig(["type": "bogus"]) == ["trigger.type: Invalid trigger type: bogus. Valid types: event, fact, timer, temporal"])
        #expect(trig(["type": "event"]) == ["trigger.topic: Event trigger must have a \"topic\" field"])
        #expect(trig(["type": "event", "topic": " "]) == ["trigger.topic: Event trigger topic cannot be empty"])
        #expect(trig(["type": "fact", "pattern": 1]) == ["trigger.pattern: Fact trigger pattern must be a string"])
        #expect(trig(["type": "timer"]) == ["trigger.name: Timer trigger must have a \"name\" field"])
        #expect(trig(["type": "temporal"]) == ["trigger.pattern: Temporal trigger must have a \"pattern\" field"])
        #expect(
            trig(["type": "temporal", "pattern": ["type": "sequence", "events": [["topic": "a"]], "within": "5x"]]) == [
                "trigger.pattern.events: Sequence pattern must have at least 2 events",
                "trigger.pattern.within: Invalid duration format: 5x. Use formats like \"5m\", \"1h\", \"7d\"",
            ])
        #expect(
            trig(["type": "temporal", "pattern": ["type": "count", "event": ["topic": "a"], "threshold": 0, "window": 0, "comparison": "gt"]]) == [
                "trigger.pattern.threshold: Count pattern threshold must be a positive number",
                "trigger.pattern.comparison: Invalid comparison: gt. Valid values: gte, lte, eq",
                "trigger.pattern.window: Duration must be positive",
            ])
        #expect(trig(["type": "temporal", "pattern": ["type": "absence", "after": ["topic": "a"], "expected": ["topic": "b"], "within": "5m"]]) == [])
    }

    @Test func conditions() {
        func conds(_ c: JSON) -> [String] { errors(["id": "a", "name": "b", "trigger": ["type": "event", "topic": "t"], "conditions": c]) }
        #expect(conds("x") == ["conditions: Conditions must be an array"])
        #expect(conds([1]) == ["conditions[0]: Condition must be an object"])
        #expect(
            conds([[:]]) == [
                "conditions[0].source: Condition must have a \"source\" field",
                "conditions[0].operator: Condition must have an \"operator\" field",
            ])
        #expect(
            conds([["source": ["type": "nope"], "operator": "like", "value": 1]]) == [
                "conditions[0].source.type: Invalid source type: nope. Valid types: event, fact, context, lookup, baseline",
                "conditions[0].operator: Invalid operator: like. Valid operators: eq, neq, gt, gte, lt, lte, in, not_in, contains, not_contains, matches, exists, not_exists",
            ])
        #expect(conds([["source": ["type": "event"], "operator": "eq"]]) == [
            "conditions[0].source.field: Event source must have a \"field\" field",
            "conditions[0].value: Condition must have a \"value\" field",
        ])
        #expect(conds([["source": ["type": "fact", "pattern": "x"], "operator": "exists"]]) == [])
        #expect(conds([["source": ["type": "context", "key": 1], "operator": "eq", "value": .null]]) == [
            "conditions[0].source.key: Context source key must be a string"
        ])
    }

    @Test func actions() {
        func acts(_ a: JSON) -> [String] { errors(["id": "a", "name": "b", "trigger": ["type": "event", "topic": "t"], "actions": a]) }
        #expect(acts("x") == ["actions: Actions must be an array"])
        #expect(acts([["type": "fly"]]) == [
            "actions[0].type: Invalid action type: fly. Valid types: set_fact, delete_fact, emit_event, set_timer, cancel_timer, call_service, log, conditional, for_each, try_catch"
        ])
        #expect(acts([["type": "emit_event", "topic": "x"]]) == ["actions[0].data: emit_event action must have a \"data\" field"])
        #expect(acts([["type": "emit_event", "topic": 1, "data": []]]) == [
            "actions[0].topic: emit_event action topic must be a string", "actions[0].data: emit_event action data must be an object",
        ])
        #expect(acts([["type": "set_fact", "key": "k"]]) == ["actions[0].value: set_fact action must have a \"value\" field"])
        #expect(acts([["type": "set_fact", "key": "k", "value": .null]]) == [])
        #expect(acts([["type": "delete_fact"]]) == ["actions[0].key: delete_fact action must have a \"key\" field"])
        #expect(acts([["type": "cancel_timer", "name": 1]]) == ["actions[0].name: cancel_timer action name must be a string"])
        #expect(acts([["type": "log", "level": "loud", "message": "m"]]) == [
            "actions[0].level: Invalid log level: loud. Valid levels: debug, info, warn, error"
        ])
        #expect(acts([["type": "call_service", "service": "s", "method": "m", "args": 1]]) == [
            "actions[0].args: call_service action args must be an array"
        ])
        #expect(acts([["type": "set_timer", "timer": ["name": "t", "duration": "5x", "onExpire": ["topic": "x"]]]]) == [
            "actions[0].timer.duration: Invalid duration format: 5x",
            "actions[0].timer.onExpire.data: Timer onExpire must have a \"data\" field",
        ])
        #expect(acts([["type": "set_timer", "timer": ["name": "t", "duration": 0, "onExpire": 1]]]) == [
            "actions[0].timer.duration: Timer duration must be positive", "actions[0].timer.onExpire: Timer onExpire must be an object",
        ])
        #expect(acts([["type": "set_timer", "timer": ["name": "t", "duration": "100", "onExpire": ["topic": "x", "data": [:]]]]]) == [])
        #expect(acts([["type": "conditional", "conditions": [], "then": []]]) == [
            "actions[0].conditions: conditional action conditions must not be empty",
            "actions[0].then: conditional action then must not be empty",
        ])
        #expect(acts([["type": "conditional", "conditions": [cond(eventField("a"), "exists")], "then": [["type": "x"]], "else": []]]) == [
            "actions[0].then[0].type: Invalid action type: x. Valid types: set_fact, delete_fact, emit_event, set_timer, cancel_timer, call_service, log, conditional, for_each, try_catch"
        ])
        #expect(acts([["type": "try_catch", "try": [emitAction("x")]]]) == [
            "actions[0]: try_catch action must have at least \"catch\" or \"finally\""
        ])
        #expect(acts([["type": "for_each"]]) == [])  // not inspected, as in the original
    }
}

struct NestingLimitTests {
    @Test func deeplyNestedRulesAreRejected() {
        var action: JSON = emitAction("x")
        for _ in 0..<40 {
            action = ["type": "for_each", "collection": [1], "as": "i", "actions": [action]]
        }
        let rule = eventRule("deep", on: "t", actions: [action])
        let result = RuleValidator.validate(rule)
        #expect(!result.valid)
        #expect(result.errors.map(\.path) == ["(root)"])
        var shallow: JSON = emitAction("x")
        for _ in 0..<5 {
            shallow = ["type": "for_each", "collection": [1], "as": "i", "actions": [shallow]]
        }
        #expect(RuleValidator.validate(eventRule("ok", on: "t", actions: [shallow])).valid)
    }
}
