import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// Registration-time validation with the original's exact issue strings, over the wire, and
/// the template scanner on its edge cases.
@Suite struct ProcedureDefinitionTests {
    static let actions = "store.get, store.where, store.findOne, store.insert, store.update, store.delete, store.count, "
        + "aggregate, rules.emit, rules.setFact, rules.getFact, if, transform, return"

    static func expectIssues(_ c: WireStoreClient, _ id: Int64, _ definition: JSON, _ issues: [String],
                             sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(c.askRaw(["id": .int(id), "type": "procedures.register", "procedure": definition])
                == WireProcedures.errorWithIssues(id, "Procedure validation failed: " + issues.joined(separator: "; "), issues),
                sourceLocation: sourceLocation)
    }

    /// Every issue the validator reports, collected in one answer in the original's order.
    @Test func everyIssueString() throws {
        let server = WireProcedures.server()
        defer { server.stop() }
        let c = try WireProcedures.client(server)
        let definition: JSON = [
            "name": "", "description": 5, "input": ["a": 1, "b": ["type": "date"]], "transaction": "yes", "timeoutMs": -5,
            "steps": [
                5,
                ["action": "store.drop"],
                ["action": "store.get"],
                ["action": "store.where", "bucket": "b", "filter": []],
                ["action": "store.insert", "bucket": "b", "data": [:], "as": ""],
                ["action": "store.update", "bucket": "b", "key": "k"],
                ["action": "store.delete", "bucket": "b"],
                ["action": "store.count", "bucket": "b", "filter": 1, "as": "c"],
                ["action": "aggregate", "source": "s", "op": "median", "as": "a"],
                ["action": "aggregate", "source": "s", "op": "count", "as": "a"],
                ["action": "rules.emit", "topic": "t", "data": "x"],
                ["action": "rules.setFact", "key": "k"],
                ["action": "rules.getFact", "key": "k"],
                ["action": "if", "condition": ["ref": "", "operator": "like"], "then": [], "else": [["action": "nope"]]],
                ["action": "if", "condition": "x", "then": [["action": "return"]], "else": []],
                ["action": "transform", "source": "s", "operation": "reduce", "as": "t"],
                ["action": "return"],
                ["action": "store.findOne", "bucket": "b", "filter": [:], "as": "f"],
            ],
        ]
        Self.expectIssues(c, 1, definition, [
            #"Missing or invalid "name": expected non-empty string"#,
            #""description" must be a string"#,
            "input.a: expected field definition object",
            "input.b.type: expected one of: string, number, boolean, object, array",
            #""transaction" must be a boolean"#,
            #""timeoutMs" must be a positive number"#,
            "steps[0]: expected step object",
            "steps[1].action: expected one of: \(Self.actions)",
            "steps[2].bucket: expected non-empty string", "steps[2].key: expected non-empty string", "steps[2].as: expected non-empty string",
            "steps[3].filter: expected object", "steps[3].as: expected non-empty string",
            "steps[4].as: expected non-empty string",
            "steps[5].data: expected object",
            "steps[6].key: expected non-empty string",
            "steps[7].filter: expected object",
            "steps[8].op: expected one of: sum, avg, min, max, count", "steps[8].field: expected non-empty string",
            "steps[10].data: expected object",
            "steps[11].value: required",
            "steps[12].as: expected non-empty string",
            "steps[13].condition.ref: expected non-empty string",
            "steps[13].condition.operator: expected one of: eq, neq, gt, gte, lt, lte, exists, not_exists",
            "steps[13].then: expected non-empty array of steps",
            "steps[13].else[0].action: expected one of: \(Self.actions)",
            "steps[14].condition: expected object", "steps[14].then[0].value: required",
            "steps[14].else: expected non-empty array of steps",
            "steps[15].operation: expected one of: map, filter, pick, pluck", "steps[15].args: required",
            "steps[16].value: required",
        ])
        Self.expectIssues(c, 2, ["name": "x", "input": [1], "steps": "all"],
                          [#""input" must be an object"#, #"Missing or invalid "steps": expected array"#])
        Self.expectIssues(c, 3, ["name": "x"], [#"Missing or invalid "steps": expected array"#])
        let ret: JSON = ["action": "return", "value": 1]
        Self.expectIssues(c, 4, ["name": "x", "steps": .array(Array(repeating: ret, count: 101))], ["Total step count (101) exceeds maximum (100)"])
        // Nested steps count, and `if` may nest four deep under the default depth of 5.
        func nest(_ depth: Int) -> JSON {
            depth == 0 ? ret : ["action": "if", "condition": ["ref": "input.x", "operator": "exists"], "then": [nest(depth - 1)]]
        }
        WireProcedures.register(c, ["name": "deep", "steps": [nest(5)]])
        Self.expectIssues(c, 5, ["name": "x", "steps": [nest(6)]],
                          ["steps[0].then[0].then[0].then[0].then[0].then[0]: condition nesting depth exceeds maximum (5)"])
        Self.expectIssues(c, 6, ["name": "x", "steps": [ret, ["action": "if", "condition": ["ref": "r", "operator": "eq"],
                                                              "then": .array(Array(repeating: ret, count: 99))]]],
                          ["Total step count (101) exceeds maximum (100)"])
    }

    /// The configured limits apply at registration.
    @Test func configuredLimits() throws {
        let server = WireProcedures.server { $0.procedures.maxSteps = 2; $0.procedures.maxConditionDepth = 1 }
        defer { server.stop() }
        let c = try WireProcedures.client(server)
        let ret: JSON = ["action": "return", "value": 1]
        Self.expectIssues(c, 1, ["name": "x", "steps": [ret, ret, ret]], ["Total step count (3) exceeds maximum (2)"])
        let inner: JSON = ["action": "if", "condition": ["ref": "a", "operator": "exists"], "then": [ret]]
        Self.expectIssues(c, 2, ["name": "x", "steps": [["action": "if", "condition": ["ref": "a", "operator": "exists"], "then": [inner]]]],
                          ["Total step count (3) exceeds maximum (2)", "steps[0].then[0]: condition nesting depth exceeds maximum (1)"])
    }

    /// The config file's `procedures` key: merged per field over the defaults.
    @Test func configFileKey() throws {
        let file = try FileConfig.decode(["procedures": ["maxSteps": 20, "defaultTimeoutMs": 500, "maxTemplateBytes": 4096]])
        #expect(file.procedures == ProceduresConfig(maxSteps: 20, defaultTimeoutMs: 500, maxTemplateBytes: 4096))
        let config = try LaunchPlan.resolve(CommandLineOptions(), file: file).prepare()
        #expect(config.procedures.maxSteps == 20)
        #expect(config.procedures.maxConditionDepth == 5)
    }

    /// `{{ … }}` as the original's pattern reads it: the path runs to the first `}`, which must
    /// start `}}`; an empty reference is text.
    @Test func templateScanner() throws {
        func refs(_ s: String) -> [String] { ProcedureTemplates.references(in: s).map(\.path) }
        #expect(refs("{{a}}") == ["a"])
        #expect(refs("x{{ a.b }}y{{\tc }}") == ["a.b", "c"])
        #expect(refs("{{{a}}}") == ["{a"])
        #expect(refs("{{}}") == [])
        #expect(refs("{{ a } }}") == [])
        #expect(refs("{{a") == [])
        #expect(refs("}}{{a}}{") == ["a"])
        #expect(refs("{{é}}—{{ü }}") == ["é", "ü"])
        let t = ProcedureTemplates(input: ["n": 1, "list": [1, 2]], results: ["r": ["k": "v"], "s": "text"],
                               budget: ProcedureBudget(name: "t", limits: ProceduresConfig(maxTemplateBytes: 100)))
        #expect(try t.resolve(string: "{{ input.n }}") == 1)
        #expect(try t.resolve(string: "{{ input.list.length }}") == 2)
        #expect(try t.resolve(string: "{{ input.list.1 }}") == 2)
        #expect(try t.resolve(string: "{{ input.list.01 }}") == nil)
        #expect(try t.resolve(string: "{{ s.length }}") == nil, "strings are not objects")
        #expect(try t.resolve(string: "n={{input.n}} r={{r}} s={{s}} none={{x.y}}") == "n=1 r={\"k\":\"v\"} s=text none=")
        #expect(try t.resolve(["a": "{{ missing }}", "b": ["{{ missing }}", "{{ r.k }}"]]) == ["b": [.null, "v"]])
        // Text templates share one byte budget per call.
        #expect(throws: ServerError.self) { try t.resolve(string: String(repeating: "{{s}}", count: 30)) }
        #expect(ProcedureBudget.values(in: ["a": [1, 2, ["b": 3]], "c": "d"], upTo: 100) == 7)
        #expect(ProcedureBudget.values(in: .array(Array(repeating: 1, count: 1000)), upTo: 10) == 10)
    }
}
