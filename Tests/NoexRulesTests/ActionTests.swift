import NoexJSON
import Testing

@testable import NoexRules

/// Each action of docs/protocol/rule-format.md#actions through a real rule.
struct ActionTests {
    @Test func setFactInterpolatesKeyAndResolvesValue() throws {
        let h = Harness()
        try h.register(eventRule("r", on: "order.created", actions: [
            setFactAction("order:${event.orderId}:total", ref("event.total")),
            setFactAction("literal", "${event.orderId}"),
            setFactAction("gone", ref("event.nothing")),
        ]))
        h.emit("order.created", ["orderId": "A1", "total": 120])
        let f = try #require(h.engine.fact("order:A1:total"))
        #expect(f.value == .int(120) && f.source == "rule" && f.version == 1)
        #expect(h.engine.getFact("literal") == "${event.orderId}")  // values are not interpolated
        #expect(h.engine.fact("gone") != nil && h.engine.getFact("gone") == nil)  // stored as undefined
        #expect(h.engine.fact("gone")?.json == ["key": "gone", "timestamp": .int(h.clock.now), "source": "rule", "version": 1])
    }

    @Test func deleteFact() throws {
        let h = Harness()
        try h.engine.setFact(key: "k:1", value: 1)
        try h.register(eventRule("r", on: "t", actions: [["type": "delete_fact", "key": "k:${event.id}"]]))
        h.emit("t", ["id": 1])
        #expect(h.engine.fact("k:1") == nil)
    }

    @Test func emitEventInheritsCorrelation() throws {
        let h = Harness()
        try h.register(eventRule("r", on: "in", actions: [emitAction("out.${event.kind}", ["v": ref("event.value"), "lit": "x", "deep": ["r": ref("event.value")]])]))
        h.emit("in", ["kind": "a", "value": 42], correlationId: "c1")
        #expect(h.topics == ["in", "out.a"])
        let out = h.delivered[1]
        #expect(out.source == .rule && out.correlationId == "c1" && out.causationId == nil)
        #expect(out.data == ["v": 42, "lit": "x", "deep": ["r": ref("event.value")]])
    }

    @Test func setAndCancelTimer() throws {
        let h = Harness()
        try h.register(eventRule("set", on: "arm", actions: [[
            "type": "set_timer",
            "timer": ["name": "t:${event.id}", "duration": "1s", "onExpire": ["topic": "fired.${event.id}", "data": ["id": ref("event.id")]]],
        ]]))
        try h.register(eventRule("cancel", on: "disarm", actions: [["type": "cancel_timer", "name": "t:${event.id}"]]))
        h.emit("arm", ["id": 1])
        h.emit("arm", ["id": 2])
        #expect(h.engine.stats().timersCount == 2)
        let t1 = try #require(h.engine.getTimer("t:1"))
        #expect(t1.expiresAt == h.clock.now + 1000 && t1.topic == "fired.1" && t1.data == ["id": 1])
        h.emit("disarm", ["id": 1])
        h.emit("disarm", ["id": 9])  // cancelling a missing timer is not an error
        #expect(h.engine.containedErrorCount == 0)
        #expect(h.advance(999) == 0)
        #expect(h.advance(1) == 1)
        #expect(h.topics.filter { $0.hasPrefix("fired") } == ["fired.2"])
        #expect(h.engine.stats().timersCount == 0)
    }

    @Test func callServiceWithAndWithoutService() throws {
        var calls: [[JSON]] = []
        let box = CallBox()
        let h = Harness(services: ["mailer": ["send": { args in box.calls.append(args); return true }]])
        try h.register(eventRule("r", on: "t", actions: [
            ["type": "call_service", "service": "missing", "method": "x", "args": []],
            ["type": "call_service", "service": "mailer", "method": "nope", "args": []],
            ["type": "call_service", "service": "mailer", "method": "send", "args": [ref("event.to"), "hi"]],
            emitAction("after"),
        ]))
        h.emit("t", ["to": "bob"])
        calls = box.calls
        #expect(calls == [["bob", "hi"]])
        #expect(h.topics == ["t", "after"])
        #expect(h.engine.containedErrorCount == 2)
        #expect(h.logEntries.contains { $0.1.contains("Service not found: missing") })
        #expect(h.logEntries.contains { $0.1.contains("Method not found: mailer.nope") })
        #expect(h.engine.stats().rulesExecuted == 1)
    }

    @Test func logInterpolates() throws {
        let h = Harness()
        try h.register(eventRule("r", on: "t", actions: [["type": "log", "level": "warn", "message": "total=${event.total}"]]))
        h.emit("t", ["total": 1.5])
        #expect(h.logEntries.count == 1)
        #expect(h.logEntries.first?.0 == .warn && h.logEntries.first?.1 == "total=1.5")
    }

    @Test func conditionalBranches() throws {
        let h = Harness()
        try h.register(eventRule("r", on: "t", actions: [[
            "type": "conditional",
            "conditions": [cond(eventField("n"), "gt", 10)],
            "then": [emitAction("big")], "else": [emitAction("small")],
        ]]))
        h.emit("t", ["n": 11])
        h.emit("t", ["n": 1])
        #expect(h.topics == ["t", "big", "t", "small"])
    }

    @Test func forEachSetsVariables() throws {
        let h = Harness()
        try h.register(eventRule("r", on: "t", actions: [[
            "type": "for_each", "collection": ref("event.items"), "as": "item",
            "actions": [setFactAction("item:${var.item_index}", ref("var.item.name"))],
        ], [
            "type": "for_each", "collection": "not an array", "as": "x", "actions": [],
        ]]))
        h.emit("t", ["items": [["name": "a"], ["name": "b"]]])
        #expect(h.engine.getFact("item:0") == "a" && h.engine.getFact("item:1") == "b")
        #expect(h.engine.containedErrorCount == 1)
    }

    @Test func tryCatchFinally() throws {
        let h = Harness()
        try h.register(eventRule("r", on: "t", actions: [[
            "type": "try_catch",
            "try": [emitAction("one"), ["type": "call_service", "service": "nope", "method": "m", "args": []], emitAction("never")],
            "catch": ["as": "err", "actions": [setFactAction("error", ref("var.err.message"))]],
            "finally": [emitAction("finally")],
        ]]))
        h.emit("t")
        #expect(h.topics == ["t", "one", "finally"])
        #expect(h.engine.getFact("error") == "Service not found: nope")
    }
}

final class CallBox { var calls: [[JSON]] = [] }
