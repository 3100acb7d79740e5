import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// `procedures.*` over real sockets with exact frames (docs/procedures.md,
/// docs/protocol/procedures.md): the original's scenario, every operation's results and errors,
/// every step type, templates, `if` operators, input checking and the time budget.
@Suite struct WireProceduresTests {
    static let calcTotal: JSON = [
        "name": "calc-total", "input": ["orderId": ["type": "string"]],
        "steps": [
            ["action": "store.where", "bucket": "items", "filter": ["orderId": "{{ input.orderId }}"], "as": "items"],
            ["action": "aggregate", "source": "items", "field": "price", "op": "sum", "as": "total"],
            ["action": "store.update", "bucket": "orders", "key": "{{ input.orderId }}",
             "data": ["total": "{{ total }}", "status": "calculated"]],
        ],
    ]

    /// The original's procedures scenario, step by step.
    @Test func originalScenario() throws {
        let server = WireProcedures.server()
        defer { server.stop() }
        let c = try WireProcedures.client(server)
        #expect(c.askRaw(["id": 1, "type": "procedures.register", "procedure": Self.calcTotal])
                == #"{"id":1,"type":"result","data":{"name":"calc-total","registered":true}}"#)
        let order = c.data(["type": "store.insert", "bucket": "orders", "data": ["status": "new"]])
        let o = try #require(order["id"]?.stringValue)
        let i1 = c.data(["type": "store.insert", "bucket": "items", "data": ["orderId": .string(o), "price": 100]])
        let i2 = c.data(["type": "store.insert", "bucket": "items", "data": ["orderId": .string(o), "price": 50]])
        _ = c.data(["type": "store.insert", "bucket": "items", "data": ["orderId": "other", "price": 7]])
        #expect(c.askRaw(["id": 2, "type": "procedures.call", "name": "calc-total", "input": ["orderId": .string(o)]])
                == JSON.object(["id": 2, "type": "result", "data": [
                    "success": true, "results": ["items": [i1, i2], "total": 150]]]).jsonString)
        let updated = c.data(["type": "store.get", "bucket": "orders", "key": .string(o)])
        #expect(updated["total"] == 150)
        #expect(updated["status"] == "calculated")
        #expect(updated["_version"] == 2)

        // A return step: the call's `result`, resolved to the raw value.
        WireProcedures.register(c, ["name": "ret", "steps": [["action": "return", "value": ["computed": "{{ input.x }}"]]]])
        #expect(c.askRaw(["id": 3, "type": "procedures.call", "name": "ret", "input": ["x": 42]])
                == #"{"id":3,"type":"result","data":{"success":true,"result":{"computed":42},"results":{}}}"#)

        // A required numeric input missing.
        WireProcedures.register(c, ["name": "needs-n", "input": ["n": ["type": "number"]],
                                    "steps": [["action": "return", "value": "{{ input.n }}"]]])
        #expect(c.askRaw(["id": 4, "type": "procedures.call", "name": "needs-n", "input": [:]])
                == WireProcedures.errorWithIssues(4, #"Invalid procedure input: Missing required input "n""#, [#"Missing required input "n""#]))
        #expect(c.askRaw(["id": 5, "type": "procedures.call", "name": "nope"])
                == wireError(5, "NOT_FOUND", #"Procedure "nope" not found"#))
        #expect(c.askRaw(["id": 6, "type": "procedures.register", "procedure": Self.calcTotal])
                == wireError(6, "ALREADY_EXISTS", #"Procedure "calc-total" already exists"#))
        #expect(c.askRaw(["id": 7, "type": "procedures.register", "procedure": ["name": "empty", "steps": []]])
                == WireProcedures.errorWithIssues(7, #"Procedure validation failed: "steps" must contain at least one step"#,
                                                  [#""steps" must contain at least one step"#]))

        // get answers the definition as registered; list the summaries in registration order.
        #expect(c.askRaw(["id": 8, "type": "procedures.get", "name": "calc-total"])
                == JSON.object(["id": 8, "type": "result", "data": Self.calcTotal]).jsonString)
        #expect(c.askRaw(["id": 9, "type": "procedures.list"])
                == #"{"id":9,"type":"result","data":{"procedures":[{"name":"calc-total","stepsCount":3},{"name":"ret","stepsCount":1},{"name":"needs-n","stepsCount":1}]}}"#)
        #expect(c.askRaw(["id": 10, "type": "procedures.update", "name": "calc-total", "updates": ["description": "Updated"]])
                == #"{"id":10,"type":"result","data":{"name":"calc-total","updated":true}}"#)
        #expect(c.data(["type": "procedures.list"])["procedures"]?.arrayValue?.first
                == ["name": "calc-total", "description": "Updated", "stepsCount": 3])
        #expect(c.askRaw(["id": 11, "type": "procedures.unregister", "name": "calc-total"])
                == #"{"id":11,"type":"result","data":{"name":"calc-total","unregistered":true}}"#)
        #expect(c.askRaw(["id": 12, "type": "procedures.call", "name": "calc-total", "input": ["orderId": .string(o)]])
                == wireError(12, "NOT_FOUND", #"Procedure "calc-total" not found"#))
    }

    /// Field errors and unknown operations of the namespace, with the original's messages.
    @Test func operationErrors() throws {
        let server = WireProcedures.server()
        defer { server.stop() }
        let c = try WireProcedures.client(server)
        let nonEmpty = { (f: String) in #"Missing or invalid "\#(f)": expected non-empty string"# }
        #expect(c.askRaw(["id": 1, "type": "procedures.register"]) == wireError(1, "VALIDATION_ERROR", #"Missing or invalid "procedure": expected object"#))
        #expect(c.askRaw(["id": 2, "type": "procedures.register", "procedure": [1]]) == wireError(2, "VALIDATION_ERROR", #"Missing or invalid "procedure": expected object"#))
        for (i, type) in ["procedures.unregister", "procedures.update", "procedures.get", "procedures.call"].enumerated() {
            let id = Int64(10 + i)
            #expect(c.askRaw(["id": .int(id), "type": .string(type), "name": ""]) == wireError(id, "VALIDATION_ERROR", nonEmpty("name")))
        }
        #expect(c.askRaw(["id": 20, "type": "procedures.unregister", "name": "x"]) == wireError(20, "NOT_FOUND", #"Procedure "x" not found"#))
        #expect(c.askRaw(["id": 21, "type": "procedures.get", "name": "x"]) == wireError(21, "NOT_FOUND", #"Procedure "x" not found"#))
        #expect(c.askRaw(["id": 22, "type": "procedures.update", "name": "x", "updates": [:]]) == wireError(22, "NOT_FOUND", #"Procedure "x" not found"#))
        #expect(c.askRaw(["id": 23, "type": "procedures.update", "name": "x"]) == wireError(23, "VALIDATION_ERROR", #"Missing or invalid "updates": expected object"#))
        #expect(c.askRaw(["id": 24, "type": "procedures.frobnicate"]) == wireError(24, "UNKNOWN_OPERATION", #"Unknown procedures operation "procedures.frobnicate""#))
        #expect(c.askRaw(["id": 25, "type": "procedures.list"]) == #"{"id":25,"type":"result","data":{"procedures":[]}}"#)
        // Our deviation: an input that is not an object is refused instead of spread.
        WireProcedures.register(c, ["name": "p", "steps": [["action": "return", "value": 1]]])
        #expect(c.askRaw(["id": 26, "type": "procedures.call", "name": "p", "input": "text"]) == wireError(26, "VALIDATION_ERROR", #"Invalid "input": expected object"#))
        #expect(c.askRaw(["id": 27, "type": "procedures.call", "name": "p", "input": .null])
                == #"{"id":27,"type":"result","data":{"success":true,"result":1,"results":{}}}"#)
        // update: name cannot change, the merged definition is validated as a whole.
        #expect(c.data(["type": "procedures.update", "name": "p", "updates": ["name": "q", "timeoutMs": 50]]) == ["name": "p", "updated": true])
        #expect(c.data(["type": "procedures.get", "name": "p"]) == ["name": "p", "steps": [["action": "return", "value": 1]], "timeoutMs": 50])
        #expect(c.askRaw(["id": 28, "type": "procedures.update", "name": "p", "updates": ["steps": "none"]])
                == WireProcedures.errorWithIssues(28, #"Procedure validation failed: Missing or invalid "steps": expected array"#,
                                                  [#"Missing or invalid "steps": expected array"#]))
        #expect(c.data(["type": "procedures.get", "name": "p"])["steps"] == [["action": "return", "value": 1]], "a refused update changes nothing")
    }

    /// Input checking: defaults, optional fields, types (JavaScript's `typeof` in messages),
    /// all issues together; undeclared fields are kept.
    @Test func inputChecking() throws {
        let server = WireProcedures.server()
        defer { server.stop() }
        let c = try WireProcedures.client(server)
        WireProcedures.register(c, ["name": "typed", "input": [
            "s": ["type": "string"], "n": ["type": "number", "default": 7], "b": ["type": "boolean", "required": false],
            "o": ["type": "object", "required": false], "a": ["type": "array", "required": false],
        ], "steps": [["action": "return", "value": "{{ input }}"]]])
        #expect(WireProcedures.call(c, "typed", ["s": "x", "extra": true])["data"]?["result"] == ["s": "x", "extra": true, "n": 7])
        #expect(WireProcedures.call(c, "typed", ["s": "x", "n": .null])["data"]?["result"] == ["s": "x", "n": 7])
        let issues = [#"Input "s": expected string, got number"#, #"Input "b": expected boolean, got string"#,
                      #"Input "o": expected object, got object"#, #"Input "a": expected array, got object"#]
        #expect(c.askRaw(["id": 5, "type": "procedures.call", "name": "typed", "input": ["s": 1, "b": "yes", "o": [1], "a": ["k": 1]]])
                == WireProcedures.errorWithIssues(5, "Invalid procedure input: " + issues.joined(separator: "; "), issues))
    }

    /// Every step type once, with templates in keys, filters and data.
    @Test func everyStepType() throws {
        let server = WireProcedures.server()
        defer { server.stop() }
        let c = try WireProcedures.client(server)
        for (id, n) in [("a", 1), ("b", 5), ("c", 9)] {
            _ = c.data(["type": "store.insert", "bucket": "public", "data": ["id": .string(id), "n": .int(Int64(n))]])
        }
        WireProcedures.register(c, ["name": "all-steps", "input": ["id": ["type": "string"]], "steps": [
            ["action": "store.get", "bucket": "public", "key": "{{ input.id }}", "as": "one"],
            ["action": "store.get", "bucket": "public", "key": "missing", "as": "none"],
            ["action": "store.where", "bucket": "public", "filter": ["n": ["$gte": 5]], "as": "big"],
            ["action": "store.findOne", "bucket": "public", "filter": ["n": 9], "as": "nine"],
            ["action": "store.count", "bucket": "public", "as": "total"],
            ["action": "store.count", "bucket": "public", "filter": ["n": 1], "as": "ones"],
            ["action": "store.insert", "bucket": "public", "data": ["id": "d-{{ one.n }}", "n": "{{ big.length }}"], "as": "inserted"],
            ["action": "store.update", "bucket": "public", "key": "a", "data": ["n": "{{ total }}"], "as": "updated"],
            ["action": "store.delete", "bucket": "public", "key": "c"],
            ["action": "aggregate", "source": "big", "op": "sum", "field": "n", "as": "sum"],
            ["action": "aggregate", "source": "big", "op": "avg", "field": "n", "as": "avg"],
            ["action": "aggregate", "source": "big", "op": "min", "field": "n", "as": "min"],
            ["action": "aggregate", "source": "big", "op": "max", "field": "n", "as": "max"],
            ["action": "aggregate", "source": "big", "op": "count", "as": "count"],
            ["action": "rules.setFact", "key": "last:{{ input.id }}", "value": "{{ one }}"],
            ["action": "rules.getFact", "key": "last:a", "as": "fact"],
            ["action": "rules.getFact", "key": "never", "as": "noFact"],
            ["action": "rules.emit", "topic": "proc.{{ input.id }}", "data": ["sum": "{{ sum }}"]],
            ["action": "transform", "source": "big", "operation": "pluck", "args": "id", "as": "ids"],
            ["action": "transform", "source": "one", "operation": "pick", "args": ["id", "n", "absent"], "as": "picked"],
            ["action": "transform", "source": "big", "operation": "filter", "args": ["n": "{{ nine.n }}"], "as": "filtered"],
            ["action": "transform", "source": "ids", "operation": "map", "args": ["x": 1], "as": "mappedScalars"],
            ["action": "transform", "source": "big", "operation": "map", "args": ["tag": "t-{{ input.id }}"], "as": "tagged"],
            ["action": "return", "value": ["msg": "sum={{ sum }} ids={{ ids }} nothing=[{{ nothing }}] one={{ picked }}", "raw": "{{ ids }}"]],
            ["action": "store.delete", "bucket": "public", "key": "a"],
        ]])
        let sub = c.data(["type": "rules.subscribe", "pattern": "proc.*"])
        let answer = WireProcedures.call(c, "all-steps", ["id": "a"])
        let data = try #require(answer["data"], "\(answer.jsonString)")
        #expect(data["success"] == true)
        let r = try #require(data["results"])
        #expect(r["one"]?["n"] == 1)
        #expect(r["none"] == .null)
        #expect(r["big"]?.arrayValue?.compactMap { $0["id"] } == ["b", "c"])
        #expect(r["nine"]?["id"] == "c")
        #expect(r["total"] == 3)
        #expect(r["ones"] == 1)
        #expect(r["inserted"]?["id"] == "d-1")
        #expect(r["inserted"]?["n"] == 2)
        #expect(r["updated"]?["n"] == 3)
        #expect(r["updated"]?["_version"] == 2)
        #expect(r["sum"] == 14)
        #expect(r["avg"] == 7)
        #expect(r["min"] == 5)
        #expect(r["max"] == 9)
        #expect(r["count"] == 2)
        #expect(r["fact"]?["id"] == "a")
        #expect(r["noFact"] == .null)
        #expect(r["ids"] == ["b", "c"])
        #expect(r["picked"] == ["id": "a", "n": 1])
        #expect(r["filtered"]?.arrayValue?.compactMap { $0["id"] } == ["c"])
        #expect(r["mappedScalars"] == ["b", "c"])
        #expect(r["tagged"]?.arrayValue?.compactMap { $0["tag"] } == ["t-a", "t-a"])
        #expect(r["tagged"]?.arrayValue?.first?["n"] == 5)
        #expect(data["result"] == ["msg": #"sum=14 ids=["b","c"] nothing=[] one={"id":"a","n":1}"#, "raw": ["b", "c"]])
        // The step after `return` did not run; the delete before it did.
        #expect(c.data(["type": "store.get", "bucket": "public", "key": "a"])["n"] == 3)
        #expect(c.data(["type": "store.get", "bucket": "public", "key": "c"]) == .null)
        let push = try #require(c.nextPush())
        #expect(push["subscriptionId"] == sub["subscriptionId"])
        #expect(push["data"]?["topic"] == "proc.a")
        #expect(push["data"]?["event"]?["data"] == ["sum": 14])
        // Source errors of aggregate and transform.
        WireProcedures.register(c, ["name": "bad-source", "steps": [
            ["action": "store.get", "bucket": "public", "key": "b", "as": "rec"],
            ["action": "aggregate", "source": "rec", "op": "sum", "field": "n", "as": "s"]]])
        #expect(c.askRaw(["id": 40, "type": "procedures.call", "name": "bad-source"])
                == wireError(40, "INTERNAL_ERROR", #"aggregate: source "rec" is not an array"#))
        WireProcedures.register(c, ["name": "bad-pick", "steps": [
            ["action": "store.where", "bucket": "public", "filter": [:], "as": "list"],
            ["action": "transform", "source": "list", "operation": "pick", "args": ["id"], "as": "p"]]])
        #expect(c.askRaw(["id": 41, "type": "procedures.call", "name": "bad-pick"])
                == wireError(41, "INTERNAL_ERROR", #"transform.pick: source "list" is not an object"#))
    }

    /// Templates can nest a deep input inside more levels; a step may not write a value deeper
    /// than a request could carry (the storage engine could not read it back).
    @Test func deepWritesAreRefused() throws {
        let server = WireProcedures.server()
        defer { server.stop() }
        let c = try WireProcedures.client(server)
        var deep: JSON = 1
        for _ in 0..<505 { deep = .array([deep]) }  // 506 levels
        func wrap(_ levels: Int) -> JSON {
            var v: JSON = "{{ input.x }}"
            for i in 0..<levels { v = .object(JSONObject([("l\(i)", v)])) }
            return v
        }
        WireProcedures.register(c, ["name": "fits", "steps": [["action": "store.insert", "bucket": "public", "data": ["id": "ok", "v": wrap(4)]]]])
        WireProcedures.register(c, ["name": "too-deep", "steps": [["action": "store.insert", "bucket": "public", "data": ["id": "no", "v": wrap(5)]]]])
        WireProcedures.register(c, ["name": "fact", "steps": [["action": "rules.setFact", "key": "k", "value": wrap(6)]]])
        #expect(WireProcedures.call(c, "fits", ["x": deep])["data"] == ["success": true, "results": [:]])
        let message = "deeper than 511 levels, more than a request can carry; flatten the data it references"
        #expect(c.askRaw(["id": 1, "type": "procedures.call", "name": "too-deep", "input": ["x": deep]])
                == wireError(1, "VALIDATION_ERROR", #"Procedure "too-deep": store.insert would write a value nested "# + message))
        #expect(c.askRaw(["id": 2, "type": "procedures.call", "name": "fact", "input": ["x": deep]])
                == wireError(2, "VALIDATION_ERROR", #"Procedure "fact": rules.setFact would write a value nested "# + message))
        #expect(c.data(["type": "store.get", "bucket": "public", "key": "no"]) == .null)
        #expect(ProcedureBudget.depth(of: ["a": [1, [2]]], exceeding: 10) == 4)
        #expect(ProcedureBudget.depth(of: deep, exceeding: 10) == 11)
    }

    /// `transform` arguments of the wrong kind are refused clearly; `pick` with a string picks
    /// its characters, as the original's loop over a string does.
    @Test func transformArguments() throws {
        let server = WireProcedures.server()
        defer { server.stop() }
        let c = try WireProcedures.client(server)
        _ = c.data(["type": "store.insert", "bucket": "public", "data": ["id": "a", "n": 1]])
        func define(_ name: String, _ operation: String, _ args: JSON, source: String = "list") {
            WireProcedures.register(c, ["name": .string(name), "steps": [
                ["action": "store.where", "bucket": "public", "filter": [:], "as": "list"],
                ["action": "store.get", "bucket": "public", "key": "a", "as": "one"],
                ["action": "transform", "source": .string(source), "operation": .string(operation), "args": args, "as": "out"]]])
        }
        define("pick-chars", "pick", "ni", source: "one")
        #expect(WireProcedures.call(c, "pick-chars")["data"]?["results"]?["out"] == ["n": 1])
        define("pick-bad", "pick", 3, source: "one")
        #expect(c.askRaw(["id": 1, "type": "procedures.call", "name": "pick-bad"])
                == wireError(1, "VALIDATION_ERROR", #"transform.pick: "args" must be an array of field names"#))
        define("filter-bad", "filter", "n")
        #expect(c.askRaw(["id": 2, "type": "procedures.call", "name": "filter-bad"])
                == wireError(2, "VALIDATION_ERROR", #"transform.filter: "args" must be an object of field values"#))
        define("map-bad", "map", [1])
        #expect(c.askRaw(["id": 3, "type": "procedures.call", "name": "map-bad"])
                == wireError(3, "VALIDATION_ERROR", #"transform.map: "args" must be an object of fields to set"#))
        define("pluck-obj", "pluck", "n", source: "one")
        #expect(c.askRaw(["id": 4, "type": "procedures.call", "name": "pluck-obj"])
                == wireError(4, "INTERNAL_ERROR", #"transform.pluck: source "one" is not an array"#))
    }

    /// Store and rules failures inside steps, mapped as the original maps them.
    @Test func stepFailures() throws {
        let server = WireProcedures.server(rules: false)
        defer { server.stop() }
        let c = try WireProcedures.client(server)
        WireProcedures.register(c, ["name": "missing", "steps": [["action": "store.update", "bucket": "public", "key": "zz", "data": ["n": 1]]]])
        #expect(c.askRaw(["id": 1, "type": "procedures.call", "name": "missing"])
                == wireError(1, "INTERNAL_ERROR", #"Record with key "zz" not found in bucket "public""#))
        WireProcedures.register(c, ["name": "invalid", "steps": [["action": "store.insert", "bucket": "public", "data": ["n": 1]]]])
        let invalid = c.ask(["type": "procedures.call", "name": "invalid"])
        #expect(invalid["code"] == "VALIDATION_ERROR")
        #expect(invalid["details"] == nil)
        #expect(invalid["message"]?.stringValue?.hasPrefix(#"Validation failed for bucket "public""#) == true)
        WireProcedures.register(c, ["name": "nobucket", "steps": [["action": "store.get", "bucket": "nope", "key": "k", "as": "x"]]])
        #expect(c.askRaw(["id": 3, "type": "procedures.call", "name": "nobucket"])
                == wireError(3, "INTERNAL_ERROR", #"Bucket "nope" is not defined"#))
        let rulesSteps: [(String, JSONObject)] = [("rules.emit", ["topic": "t"]), ("rules.setFact", ["key": "k", "value": 1]),
                                                  ("rules.getFact", ["key": "k", "as": "f"])]
        for (i, (action, extra)) in rulesSteps.enumerated() {
            var step: JSONObject = ["action": .string(action)]
            for (k, v) in extra { step[k] = v }
            WireProcedures.register(c, ["name": .string("r\(i)"), "steps": [.object(step)]])
            #expect(c.askRaw(["id": .int(Int64(10 + i)), "type": "procedures.call", "name": .string("r\(i)")])
                    == wireError(Int64(10 + i), "INTERNAL_ERROR", "\(action): rule engine is not configured"))
        }
    }

    /// `if` with every operator (strict equality, JavaScript comparison, exists), `else`, nesting
    /// and a `return` inside a branch stopping the outer steps.
    @Test func conditions() throws {
        let server = WireProcedures.server()
        defer { server.stop() }
        let c = try WireProcedures.client(server)
        func branch(_ op: String, _ value: JSON?) -> JSON {
            var cond: JSONObject = ["ref": "input.x", "operator": .string(op)]
            if let value { cond["value"] = value }
            return ["name": .string("if-\(op)"), "steps": [
                ["action": "if", "condition": .object(cond), "then": [["action": "return", "value": "yes"]],
                 "else": [["action": "return", "value": "no"]]],
                ["action": "return", "value": "unreached"],
            ]]
        }
        let cases: [(String, JSON?, [(JSON, String)])] = [
            ("eq", 5, [([ "x": 5], "yes"), (["x": "5"], "no"), ([:], "no")]),
            ("neq", 5, [(["x": 5], "no"), (["x": "5"], "yes")]),
            ("gt", 5, [(["x": 6], "yes"), (["x": 5], "no"), ([:], "no"), (["x": "6"], "yes")]),
            ("gte", 5, [(["x": 5], "yes"), (["x": 4], "no")]),
            ("lt", 5, [(["x": 4], "yes"), (["x": 5], "no"), (["x": .null], "yes")]),
            ("lte", 5, [(["x": 5], "yes"), (["x": 6], "no")]),
            ("exists", nil, [(["x": 0], "yes"), (["x": .null], "no"), ([:], "no")]),
            ("not_exists", nil, [([:], "yes"), (["x": false], "no")]),
        ]
        for (op, value, calls) in cases {
            WireProcedures.register(c, branch(op, value))
            for (input, expected) in calls {
                #expect(WireProcedures.call(c, "if-\(op)", input)["data"]?["result"] == .string(expected), "\(op) \(input.jsonString)")
            }
        }
        // The value side is a template; a missing else does nothing.
        WireProcedures.register(c, ["name": "templated", "input": ["a": ["type": "number"], "b": ["type": "number"]], "steps": [
            ["action": "if", "condition": ["ref": "input.a", "operator": "eq", "value": "{{ input.b }}"],
             "then": [["action": "store.count", "bucket": "public", "as": "same"]]],
        ]])
        #expect(WireProcedures.call(c, "templated", ["a": 1, "b": 1])["data"] == ["success": true, "results": ["same": 0]])
        #expect(WireProcedures.call(c, "templated", ["a": 1, "b": 2])["data"] == ["success": true, "results": [:]])
    }

    /// The time budget: checked before every step on a monotonic clock; the error is the
    /// original's. A timeout of one nanosecond expires before the first step.
    @Test func timeout() throws {
        let server = WireProcedures.server()
        defer { server.stop() }
        let c = try WireProcedures.client(server)
        WireProcedures.register(c, ["name": "slow", "timeoutMs": 0.000001, "steps": [
            ["action": "store.insert", "bucket": "public", "data": ["id": "t"]]]])
        #expect(c.askRaw(["id": 1, "type": "procedures.call", "name": "slow"])
                == wireError(1, "INTERNAL_ERROR", #"Procedure "slow" timed out after 0.000001ms"#))
        #expect(c.data(["type": "store.count", "bucket": "public"]) == 0)
        for (i, bad) in [JSON.int(0), -1, "10"].enumerated() {
            #expect(c.askRaw(["id": .int(Int64(2 + i)), "type": "procedures.register", "procedure": ["name": "t", "timeoutMs": bad, "steps": [["action": "return", "value": 1]]]])
                    == WireProcedures.errorWithIssues(Int64(2 + i), #"Procedure validation failed: "timeoutMs" must be a positive number"#,
                                                      [#""timeoutMs" must be a positive number"#]))
        }
    }

    /// The bounds a hostile definition meets: the item budget stops a `map` over a large
    /// result before the copies are made, and text templates cannot grow past their byte budget.
    @Test func workBounds() throws {
        let server = WireProcedures.server { $0.procedures.maxItemsPerCall = 50; $0.procedures.maxTemplateBytes = 64 }
        defer { server.stop() }
        let c = try WireProcedures.client(server)
        for i in 0..<20 { _ = c.data(["type": "store.insert", "bucket": "public", "data": ["id": .string("r\(i)")]]) }
        WireProcedures.register(c, ["name": "fits", "steps": [
            ["action": "store.where", "bucket": "public", "filter": [:], "as": "all"],
            ["action": "aggregate", "source": "all", "op": "count", "as": "n"]]])
        #expect(WireProcedures.call(c, "fits")["data"]?["results"]?["n"] == 20)
        WireProcedures.register(c, ["name": "blowup", "steps": [
            ["action": "store.where", "bucket": "public", "filter": [:], "as": "all"],
            ["action": "transform", "source": "all", "operation": "map", "args": ["copy": "{{ all }}"], "as": "big"]]])
        #expect(c.askRaw(["id": 1, "type": "procedures.call", "name": "blowup"]) == wireError(1, "VALIDATION_ERROR",
            #"Procedure "blowup" exceeded 50 items (procedures.maxItemsPerCall): its steps read, built or wrote more records and values than one call may; narrow its filters or raise the limit"#))
        // Many references to one large result: each copy is charged, so the answer cannot grow
        // with the square of the data.
        WireProcedures.register(c, ["name": "copies", "steps": [
            ["action": "store.where", "bucket": "public", "filter": [:], "as": "all"],
            ["action": "return", "value": ["a": "{{ all }}", "b": "{{ all }}"]]]])
        #expect(c.ask(["type": "procedures.call", "name": "copies"])["message"]?.stringValue?.hasPrefix(#"Procedure "copies" exceeded 50 items"#) == true)
        WireProcedures.register(c, ["name": "longtext", "steps": [
            ["action": "store.get", "bucket": "public", "key": "r1", "as": "rec"],
            ["action": "return", "value": "rec: {{ rec }}"]]])
        #expect(c.askRaw(["id": 2, "type": "procedures.call", "name": "longtext"]) == wireError(2, "VALIDATION_ERROR",
            #"Procedure "longtext" produced more than 64 bytes of text templates (procedures.maxTemplateBytes); reference less data inside text"#))
        // The connection and the server live on.
        #expect(c.data(["type": "store.count", "bucket": "public"]) == 20)
    }
}
