import Foundation
import NoexJSON
import Testing
@testable import NoexPersistence
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

    /// `rules.updateRule` moves a rule to the end of the tie order, and versions come from one
    /// counter that also counted removed rules: after a restart the order, which of two equal
    /// rules fires first and the next versions are those of a server that never stopped.
    @Test(arguments: [PersistenceOptions.Engine.sqlite, .file])
    func ruleOrderAndVersionsSurviveARestart(_ engine: PersistenceOptions.Engine) throws {
        typealias W = WireRules
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file(engine == .sqlite ? "noex.db" : "data")
        let writer: (String) -> JSON = { id in W.onEvent(id, "tie", actions: [W.setFact("last", .string(id))]) }
        let order = ["id": 1, "type": "rules.getRules"] as JSONObject
        var before = ""
        do {
            let server = server(db, engine)
            try #require(server.startError == nil)
            let c = try WireStoreClient(server)
            #expect(c.data(["type": "rules.registerRule", "rule": writer("a")])["version"] == 1)
            #expect(c.data(["type": "rules.registerRule", "rule": writer("b")])["version"] == 2)
            #expect(c.data(["type": "rules.registerRule", "rule": W.onEvent("c", "other", actions: [W.emit("x")])])["version"] == 3)
            // `a` is updated after `b` and `c` were registered: it now runs after `b`.
            #expect(c.data(["type": "rules.updateRule", "ruleId": "a", "updates": ["name": "a again"]])["version"] == 4)
            #expect(c.data(["type": "rules.registerRule", "rule": W.onEvent("d", "other", actions: [W.emit("x")])])["version"] == 5)
            #expect(c.ask(["type": "rules.unregisterRule", "ruleId": "d"])["type"] == "result")
            #expect(c.ask(["type": "rules.emit", "topic": "tie"])["type"] == "result")
            #expect(c.data(["type": "rules.getFact", "key": "last"]) == "a")
            before = c.askRaw(order) ?? ""
            server.stop()
        }
        let server = server(db, engine)
        defer { server.stop() }
        try #require(server.startError == nil)
        let c = try WireStoreClient(server)
        #expect(c.askRaw(order) == before, "rules.getRules differs after restart")
        let ids = WireStoreClient.parse(before)["data"]?["rules"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
        #expect(ids == ["b", "c", "a"])
        #expect(c.ask(["type": "rules.deleteFact", "key": "last"])["type"] == "result")
        #expect(c.ask(["type": "rules.emit", "topic": "tie"])["type"] == "result")
        #expect(c.data(["type": "rules.getFact", "key": "last"]) == "a", "the equal-priority rules fire in another order")
        // Versions 1–5 were drawn before the restart (5 by the removed `d`).
        #expect(c.data(["type": "rules.registerRule", "rule": W.onEvent("e", "other", actions: [W.emit("x")])])["version"] == 6)
        #expect(c.data(["type": "rules.updateRule", "ruleId": "b", "updates": ["priority": 0]])["version"] == 7)
    }

    /// A store written before the rule order was saved (no `rule_order` row, no `ruleOrder`
    /// entry) loads as before, in stored order; the next version follows the highest stored one
    /// (loading draws none).
    @Test(arguments: [PersistenceOptions.Engine.sqlite, .file])
    func aStoreWithoutTheRuleOrderLoadsAsBefore(_ engine: PersistenceOptions.Engine) throws {
        typealias W = WireRules
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file(engine == .sqlite ? "noex.db" : "data")
        do {
            let server = server(db, engine)
            try #require(server.startError == nil)
            let c = try WireStoreClient(server)
            for id in ["a", "b"] { #expect(c.ask(["type": "rules.registerRule", "rule": W.onEvent(id, "t", actions: [W.emit("x")])])["type"] == "result") }
            #expect(c.data(["type": "rules.updateRule", "ruleId": "a", "updates": ["priority": 1]])["version"] == 3)
            server.stop()
        }
        try Self.removeStoredRuleOrder(db, engine)
        let server = server(db, engine)
        defer { server.stop() }
        try #require(server.startError == nil)
        let c = try WireStoreClient(server)
        let ids = c.data(["type": "rules.getRules"])["rules"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
        #expect(ids == ["a", "b"])
        #expect(c.data(["type": "rules.getRule", "ruleId": "a"])["version"] == 3)
        #expect(c.data(["type": "rules.registerRule", "rule": W.onEvent("c", "t", actions: [W.emit("x")])])["version"] == 4)
    }

    /// Turns a store into one written before the rule order was saved.
    private static func removeStoredRuleOrder(_ path: String, _ engine: PersistenceOptions.Engine) throws {
        if engine == .sqlite {
            let db = try SQLiteDatabase(path: path)
            defer { db.close() }
            db.busyTimeout(ms: 5000)  // the stopped server lets go of its lock as it shuts down
            #expect(try db.scalarInt("SELECT count(*) FROM meta WHERE key = 'rule_order'") == 1)
            try db.exec("DELETE FROM meta WHERE key = 'rule_order'")
            return
        }
        let file = path + "/schema.json"
        var top = try #require(try JSON.parse(String(contentsOfFile: file, encoding: .utf8)).objectValue)
        #expect(top.removeValue(forKey: "ruleOrder") != nil)
        try JSON.object(top).jsonString.write(toFile: file, atomically: true, encoding: .utf8)
    }
}
