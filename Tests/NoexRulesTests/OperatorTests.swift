import NoexJSON
import Testing

@testable import NoexRules

/// Every operator of docs/protocol/rule-format.md#conditions with JavaScript semantics; `nil` is `undefined`.
struct OperatorTests {
    let engine = RuleEngine(clock: ManualRulesClock())

    func check(_ op: Operator, _ a: JSON?, _ b: JSON?) -> Bool { engine.evaluate(op, a, b) }

    @Test func equality() {
        #expect(check(.eq, 1, 1))
        #expect(check(.eq, .int(1), .double(1.0)))
        #expect(!check(.eq, "1", 1))
        #expect(check(.eq, "a", "a"))
        #expect(check(.eq, .null, .null))
        #expect(!check(.eq, nil, .null))
        #expect(check(.eq, nil, nil))
        #expect(!check(.eq, [1, 2], [1, 2]))  // composites compare by identity in the original
        #expect(!check(.eq, ["a": 1], ["a": 1]))
        #expect(check(.neq, [1, 2], [1, 2]))
        #expect(check(.neq, "1", 1))
        #expect(!check(.neq, true, true))
    }

    @Test func ordering() {
        #expect(check(.gt, 10, 5))
        #expect(!check(.gt, 5, 5))
        #expect(check(.gte, 5, 5))
        #expect(check(.lt, 1.5, 2))
        #expect(check(.lte, 2, 2.0))
        #expect(!check(.gt, "10", 5))
        #expect(!check(.lt, nil, 5))
        #expect(!check(.gte, .null, 0))
        #expect(!check(.lte, 1, "2"))
    }

    @Test func membership() {
        #expect(check(.in, "a", ["a", "b"]))
        #expect(!check(.in, "c", ["a", "b"]))
        #expect(check(.in, 1, [1.0, 2]))
        #expect(!check(.in, "a", "abc"))  // not an array: false for both
        #expect(!check(.not_in, "a", "abc"))
        #expect(check(.not_in, "c", ["a", "b"]))
        #expect(!check(.not_in, "a", ["a"]))
        #expect(!check(.in, [1], [[1]]))  // composites by identity
        #expect(check(.in, .null, [.null]))
    }

    @Test func contains() {
        #expect(check(.contains, "hello world", "lo w"))
        #expect(!check(.contains, "hello", "x"))
        #expect(check(.contains, "hello", ""))
        #expect(check(.contains, ["a", "b"], "b"))
        #expect(!check(.contains, ["a", "b"], "c"))
        #expect(!check(.contains, 5, 5))
        #expect(!check(.contains, nil, "x"))
        #expect(check(.not_contains, "hello", "x"))
        #expect(!check(.not_contains, "hello", "ell"))
        #expect(check(.not_contains, ["a"], "b"))
        #expect(!check(.not_contains, ["a"], "a"))
        #expect(check(.not_contains, 5, 5))  // otherwise true
        #expect(check(.not_contains, nil, "x"))
    }

    @Test func matches() {
        #expect(check(.matches, "order-123", "^order-\\d+$"))
        #expect(check(.matches, "my order-1 here", "order-\\d"))  // unanchored
        #expect(!check(.matches, "order-x", "^order-\\d+$"))
        #expect(!check(.matches, "abc", "(unclosed"))  // invalid regex: false
        #expect(!check(.matches, 123, "\\d+"))
        #expect(!check(.matches, "123", 1))
        #expect(check(.matches, "ABC", "b|B"))
    }

    @Test func existence() {
        #expect(check(.exists, 0, nil))
        #expect(check(.exists, "", nil))
        #expect(check(.exists, false, nil))
        #expect(!check(.exists, .null, nil))
        #expect(!check(.exists, nil, nil))
        #expect(check(.not_exists, nil, nil))
        #expect(check(.not_exists, .null, nil))
        #expect(!check(.not_exists, 1, nil))
    }
}

/// `{ref}` resolution, interpolation and condition sources (docs/protocol/rule-format.md).
struct ReferenceTests {
    let engine: RuleEngine = {
        let e = RuleEngine(clock: ManualRulesClock())
        try! e.setFact(key: "order:7:status", value: "paid")
        try! e.setFact(key: "n", value: 3)
        return e
    }()

    let ctx = EvalContext(
        triggerData: ["id": 7, "kind": "a", "nested": ["x": ["y": 1]], "list": [1, 2], "obj": ["k": 1], "nul": .null],
        variables: ["item": ["name": "n1"], "i": 2],
        matchedEvents: [RuleEvent(id: "e", topic: "t", data: ["m": 5], timestamp: 0, source: .api)])

    @Test func actionRefs() throws {
        #expect(try engine.resolveRef("event.id", ctx) == .int(7))
        #expect(try engine.resolveRef("trigger.nested.x.y", ctx) == .int(1))
        #expect(try engine.resolveRef("event", ctx) == ctx.triggerData)
        #expect(try engine.resolveRef("event.missing", ctx) == nil)
        #expect(try engine.resolveRef("fact.order:${event.id}:status", ctx) == "paid")
        #expect(try engine.resolveRef("fact.n", ctx) == .int(3))
        #expect(try engine.resolveRef("var.item.name", ctx) == "n1")
        #expect(try engine.resolveRef("matched.0.m", ctx) == .int(5))
        #expect(throws: EvaluationError.self) { try engine.resolveRef("foo.x", ctx) }
    }

    @Test func resolveOnlyTopLevel() throws {
        let data: JSONObject = ["a": ref("event.id"), "b": ["c": ref("event.id")], "gone": ref("event.nope"), "n": ref("event.nul")]
        let out = try engine.resolveTopLevel(data, ctx)
        #expect(out["a"] == .int(7))
        #expect(out["b"] == ["c": ref("event.id")])
        #expect(out["gone"] == nil)  // undefined drops the key
        #expect(out["n"] == .null)  // null stays
        #expect(out.keys == ["a", "b", "n"])
    }

    @Test func interpolation() throws {
        #expect(try engine.interpolate("order:${event.id}:total", ctx) == "order:7:total")
        #expect(try engine.interpolate("${event.list}", ctx) == "1,2")
        #expect(try engine.interpolate("${event.obj}", ctx) == "[object Object]")
        #expect(try engine.interpolate("[${event.missing}]", ctx) == "[]")
        #expect(try engine.interpolate("[${event.nul}]", ctx) == "[]")
        #expect(try engine.interpolate("${}", ctx) == "${}")
        #expect(try engine.interpolate("${event.kind}-${event.id}", ctx) == "a-7")
        #expect(try engine.interpolate("no refs", ctx) == "no refs")
        #expect(try engine.interpolate("open ${event.id", ctx) == "open ${event.id")
        #expect(throws: EvaluationError.self) { try engine.interpolate("${foo.x}", ctx) }
    }

    @Test func conditionCompareValues() throws {
        #expect(try engine.compareValue(ref("fact.order:${event.id}:status"), ctx) == "paid")
        #expect(try engine.compareValue(ref("event.kind"), ctx) == "a")
        #expect(try engine.compareValue(ref("event"), ctx) == nil)  // bare event reads path ""
        #expect(try engine.compareValue(ref("var.i"), ctx) == .int(2))
        #expect(try engine.compareValue(ref("matched.0.m"), ctx) == ref("matched.0.m"))  // the ref object itself
        #expect(try engine.compareValue(5, ctx) == .int(5))
    }

    @Test func conditionSources() throws {
        func holds(_ c: JSON) throws -> Bool { try engine.conditionHolds(Condition(c), ctx) }
        #expect(try holds(cond(eventField("nested.x.y"), "eq", 1)))
        #expect(try holds(cond(factSource("order:${event.id}:status"), "eq", "paid")))
        #expect(try holds(cond(factSource("order:*:status"), "eq", "paid")))
        #expect(try holds(cond(["type": "context", "key": "item.name"], "eq", "n1")))
        #expect(try holds(cond(["type": "context", "key": "i"], "eq", 2)))
        #expect(try !holds(cond(factSource("missing"), "exists")))
        #expect(try holds(cond(eventField("kind"), "eq", ref("event.kind"))))
        #expect(try !holds(cond(eventField("kind"), "eq", ref("matched.0.m"))))
        #expect(throws: EvaluationError.self) { try holds(cond(factSource("${foo.x}"), "exists")) }
    }
}
