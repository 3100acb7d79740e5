import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// Rules and facts in durable storage: registered, updated, enabled/disabled, removed over the
/// wire, facts set by the API and by rule actions — stop, start, and every read answers the
/// same bytes.
@Suite struct DurableRulesTests {
    private func server(_ db: String, _ engine: PersistenceOptions.Engine) -> ServerThread {
        WireRules.server { $0.persistence = PersistenceOptions(path: db, fsync: .everysec, engine: engine) }
    }

    private let reads: [JSONObject] = [
        ["id": 901, "type": "rules.getRules"],
        ["id": 902, "type": "rules.getRule", "ruleId": "r1"],
        ["id": 903, "type": "rules.getRule", "ruleId": "r2"],
        ["id": 904, "type": "rules.getRule", "ruleId": "gone"],
        ["id": 905, "type": "rules.getAllFacts"],
        ["id": 906, "type": "rules.getFact", "key": "deleted"],
    ]

    @Test(arguments: [PersistenceOptions.Engine.sqlite, .file])
    func rulesAndFactsSurviveARestart(_ engine: PersistenceOptions.Engine) throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file(engine == .sqlite ? "noex.db" : "data")
        var before: [String] = []
        do {
            let server = server(db, engine)
            try #require(server.startError == nil)
            let c = try WireStoreClient(server)
            let rule: (String) -> JSON = { id in
                ["id": .string(id), "name": .string("rule \(id)"), "trigger": ["type": "event", "topic": "order.created"],
                 "actions": [WireRules.setFact("order:last", WireRules.ref("event.id"))]]
            }
            #expect(c.ask(["type": "rules.registerRule", "rule": rule("r1")])["type"] == "result")
            #expect(c.ask(["type": "rules.registerRule", "rule": rule("r2")])["type"] == "result")
            #expect(c.ask(["type": "rules.registerRule", "rule": rule("gone")])["type"] == "result")
            #expect(c.ask(["type": "rules.updateRule", "ruleId": "r2", "updates": ["priority": 5]])["type"] == "result")
            #expect(c.ask(["type": "rules.disableRule", "ruleId": "r1"])["type"] == "result")
            #expect(c.ask(["type": "rules.unregisterRule", "ruleId": "gone"])["type"] == "result")
            #expect(c.ask(["type": "rules.setFact", "key": "user:1", "value": ["name": "Ann"]])["type"] == "result")
            #expect(c.ask(["type": "rules.setFact", "key": "user:1", "value": ["name": "Ann B."]])["type"] == "result")
            #expect(c.ask(["type": "rules.setFact", "key": "deleted", "value": 1])["type"] == "result")
            #expect(c.ask(["type": "rules.deleteFact", "key": "deleted"])["type"] == "result")
            // a fact written by a rule action (r2 is enabled)
            #expect(c.ask(["type": "rules.emit", "topic": "order.created", "data": ["id": "o-7"]])["type"] == "result")
            #expect(c.data(["type": "rules.getFact", "key": "order:last"]) == "o-7")
            before = reads.map { c.askRaw($0) ?? "" }
            server.stop()
        }
        let server = server(db, engine)
        defer { server.stop() }
        try #require(server.startError == nil)
        let c = try WireStoreClient(server)
        for (i, (b, a)) in zip(before, reads.map { c.askRaw($0) ?? "" }).enumerated() {
            #expect(a == b, "read \(reads[i]) differs after restart")
        }
        // versions continue after the restored ones
        let r3 = c.data(["type": "rules.registerRule", "rule": ["id": "r3", "name": "r3", "trigger": ["type": "event", "topic": "x"]]])
        let r2 = c.data(["type": "rules.getRule", "ruleId": "r2"])
        #expect((r3["version"]?.intValue ?? 0) > (r2["version"]?.intValue ?? 0))
    }
}
