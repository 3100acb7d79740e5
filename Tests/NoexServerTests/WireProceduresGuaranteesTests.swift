import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// What this server guarantees beyond the original (docs/procedures.md): `transaction: true` is
/// all or nothing (store state and pushes), steps are authorised as the caller, the system
/// buckets stay out of reach, and procedures survive a restart.
@Suite struct WireProceduresGuaranteesTests {
    static let subscribePublic: JSONObject = ["type": "store.subscribe", "query": "public-all"]

    static func insertThenFail(_ name: String, transaction: Bool?) -> JSON {
        var o: JSONObject = ["name": .string(name), "steps": [
            ["action": "store.insert", "bucket": "public", "data": ["id": "p1", "n": 1]],
            ["action": "store.update", "bucket": "public", "key": "p1", "data": ["n": 2]],
            ["action": "rules.emit", "topic": "done.{{ input.tag }}"],
            ["action": "rules.setFact", "key": "seen", "value": true],
            ["action": "store.update", "bucket": "public", "key": "absent", "data": ["n": 3]],
        ]]
        if let transaction { o["transaction"] = .bool(transaction) }
        return .object(o)
    }

    /// A failing step rolls every store step of the call back: nothing is stored, nothing is
    /// pushed, no event is emitted, no fact set.
    @Test func transactionRollsBackEverything() throws {
        let server = WireProcedures.server()
        defer { server.stop() }
        let c = try WireProcedures.client(server)
        let watcher = try WireProcedures.client(server)
        #expect(watcher.data(Self.subscribePublic)["data"] == [])
        _ = watcher.data(["type": "rules.subscribe", "pattern": "done.*"])
        WireProcedures.register(c, Self.insertThenFail("atomic", transaction: true))
        #expect(c.askRaw(["id": 1, "type": "procedures.call", "name": "atomic", "input": ["tag": "x"]])
                == wireError(1, "INTERNAL_ERROR", #"Record with key "absent" not found in bucket "public""#))
        #expect(c.data(["type": "store.all", "bucket": "public"]) == [])
        #expect(c.data(["type": "rules.getFact", "key": "seen"]) == .null)
        #expect(watcher.noPush(withinMs: 300))

        // A commit-time failure (a unique value taken twice) rolls back too.
        WireProcedures.register(c, ["name": "dup-code", "transaction": true, "steps": [
            ["action": "store.insert", "bucket": "public", "data": ["id": "u1", "code": "same"]],
            ["action": "store.insert", "bucket": "public", "data": ["id": "u2", "code": "same"]]]])
        let dup = c.ask(["type": "procedures.call", "name": "dup-code"])
        #expect(dup["code"] == "INTERNAL_ERROR")
        #expect(dup["message"]?.stringValue?.contains("Unique constraint violation") == true)
        #expect(c.data(["type": "store.count", "bucket": "public"]) == 0)
        #expect(watcher.noPush(withinMs: 200))

        // The same steps without the failing one: one push with the final state, the event, the fact.
        var ok = Self.insertThenFail("atomic-ok", transaction: true)
        if case .object(var o) = ok, case .array(var steps)? = o["steps"] {
            steps.removeLast()
            steps.append(["action": "rules.getFact", "key": "seen", "as": "seenInCall"])
            steps.append(["action": "store.get", "bucket": "public", "key": "p1", "as": "readBack"])
            o["steps"] = .array(steps)
            ok = .object(o)
        }
        WireProcedures.register(c, ok)
        let done = WireProcedures.call(c, "atomic-ok", ["tag": "y"])
        #expect(done["data"]?["results"]?["seenInCall"] == true, "a fact set earlier in the call is read back")
        #expect(done["data"]?["results"]?["readBack"]?["n"] == 2, "reads see the call's own writes")
        let push = try #require(watcher.nextPush())
        #expect(push["channel"] == "subscription")
        #expect(push["data"]?.arrayValue?.map { wireStable($0) } == [["id": "p1", "n": 2, "_version": 2, "_createdAt": 0, "_updatedAt": 0]])
        let event = try #require(watcher.nextPush())
        #expect(event["data"]?["topic"] == "done.y")
        #expect(c.data(["type": "rules.getFact", "key": "seen"]) == true)
    }

    /// Without `transaction` the steps apply as they go, as in the original: the writes before
    /// the failing step stay and are pushed.
    @Test func withoutTransactionStepsApplyAsTheyGo() throws {
        let server = WireProcedures.server()
        defer { server.stop() }
        let c = try WireProcedures.client(server)
        let watcher = try WireProcedures.client(server)
        _ = watcher.data(Self.subscribePublic)
        WireProcedures.register(c, Self.insertThenFail("loose", transaction: nil))
        #expect(WireProcedures.call(c, "loose", ["tag": "x"])["code"] == "INTERNAL_ERROR")
        #expect(c.data(["type": "store.get", "bucket": "public", "key": "p1"])["n"] == 2)
        #expect(c.data(["type": "rules.getFact", "key": "seen"]) == true)
        #expect(watcher.nextPush() != nil)
    }

    /// The caller's own subscription push comes after the call's answer.
    @Test func pushesFollowTheAnswer() throws {
        let server = WireProcedures.server()
        defer { server.stop() }
        let c = try WireProcedures.client(server)
        let sub = c.data(Self.subscribePublic)["subscriptionId"]
        WireProcedures.register(c, ["name": "add", "steps": [["action": "store.insert", "bucket": "public", "data": ["id": "x"]]]])
        c.ws.sendText(#"{"id":9,"type":"procedures.call","name":"add"}"#)
        let first = WireStoreClient.parse(c.ws.nextText())
        let second = WireStoreClient.parse(c.ws.nextText())
        #expect(first == ["id": 9, "type": "result", "data": ["success": true, "results": [:]]])
        #expect(second["type"] == "push")
        #expect(second["subscriptionId"] == sub)
    }

    /// Steps are checked as the caller: the tier, the permission rules on the step's own bucket
    /// or topic, and the system-bucket guard, with the standalone request's FORBIDDEN.
    @Test func stepsAreAuthorisedAsTheCaller() throws {
        let server = WireProcedures.authServer()
        defer { server.stop() }
        let admin = try WireProcedures.client(server, token: "admin")
        let writer = try WireProcedures.client(server, token: "writer")
        let reader = try WireProcedures.client(server, token: "reader")
        WireProcedures.register(admin, ["name": "touch-public", "steps": [
            ["action": "store.insert", "bucket": "public", "data": ["id": "w1"], "as": "row"],
            ["action": "rules.emit", "topic": "orders.created"]]])
        WireProcedures.register(admin, ["name": "touch-secret", "transaction": true, "steps": [
            ["action": "store.insert", "bucket": "public", "data": ["id": "w2"]],
            ["action": "store.get", "bucket": "secret", "key": "s1", "as": "leak"]]])
        WireProcedures.register(admin, ["name": "read-users", "steps": [
            ["action": "store.get", "bucket": "_users", "key": "u", "as": "u"]]])
        WireProcedures.register(admin, ["name": "forge-procedure", "steps": [
            ["action": "store.update", "bucket": "_procedures", "key": "touch-public", "data": ["definition": [:]]]]])

        #expect(WireProcedures.call(writer, "touch-public")["data"]?["results"]?["row"]?["id"] == "w1")
        #expect(writer.askRaw(["id": 1, "type": "procedures.call", "name": "touch-secret"])
                == wireError(1, "FORBIDDEN", "No permission for store.get on secret"))
        #expect(admin.data(["type": "store.get", "bucket": "public", "key": "w2"]) == .null, "the denied call was rolled back")
        #expect(WireProcedures.call(admin, "touch-secret")["data"]?["results"]?["leak"] == .null, "admin may read secret")
        let guardMessage = #"Cannot access system bucket \"_users\" directly"#
        // The writer's standalone request is refused by its permission rules first; the step gets the same.
        #expect(writer.askRaw(["id": 2, "type": "procedures.call", "name": "read-users"])
                == wireError(2, "FORBIDDEN", "No permission for store.get on _users"))
        #expect(writer.askRaw(["id": 2, "type": "store.get", "bucket": "_users", "key": "u"])
                == wireError(2, "FORBIDDEN", "No permission for store.get on _users"))
        #expect(admin.askRaw(["id": 3, "type": "procedures.call", "name": "read-users"])
                == #"{"id":3,"type":"error","code":"FORBIDDEN","message":"\#(guardMessage)"}"#, "the guard holds for every role")
        #expect(admin.askRaw(["id": 4, "type": "procedures.call", "name": "forge-procedure"])
                == wireError(4, "FORBIDDEN", #"Cannot access system bucket "_procedures" directly"#))
        #expect(admin.data(["type": "procedures.get", "name": "touch-public"])["steps"]?.arrayValue?.count == 2)

        // The tiers of the namespace (the original's tier table).
        #expect(reader.askRaw(["id": 5, "type": "procedures.call", "name": "touch-public"])
                == wireError(5, "FORBIDDEN", "Role level insufficient for procedures.call (requires write)"))
        #expect(reader.ask(["type": "procedures.get", "name": "touch-public"])["type"] == "result")
        for (i, type) in ["procedures.register", "procedures.list", "procedures.update", "procedures.unregister"].enumerated() {
            #expect(writer.askRaw(["id": .int(Int64(10 + i)), "type": .string(type), "name": "touch-public"])
                    == wireError(Int64(10 + i), "FORBIDDEN", "Role level insufficient for \(type) (requires admin)"))
        }
    }

    /// A rules step is checked against its resolved topic or key, like `rules.emit` sent alone.
    @Test func rulesStepsAreCheckedOnTheirTopic() throws {
        let server = WireProcedures.server { config in
            config.auth = .staticTokens(["t": AuthSession(userId: "u", roles: ["app"])], permissions: PermissionConfig(default: .deny, rules: [
                PermissionRule(role: "app", allow: ["procedures.call", "procedures.register"]),
                PermissionRule(role: "app", allow: ["rules.emit"], topics: ["orders.*"]),
            ]))
        }
        defer { server.stop() }
        let c = try WireProcedures.client(server, token: "t")
        WireProcedures.register(c, ["name": "emit", "input": ["topic": ["type": "string"]], "steps": [
            ["action": "rules.emit", "topic": "{{ input.topic }}"]]])
        #expect(WireProcedures.call(c, "emit", ["topic": "orders.paid"])["data"] == ["success": true, "results": [:]])
        #expect(c.askRaw(["id": 1, "type": "procedures.call", "name": "emit", "input": ["topic": "payroll.run"]])
                == wireError(1, "FORBIDDEN", "No permission for rules.emit on payroll.run"))
    }

    /// Definitions live in `_procedures` through the storage engine: registered, updated and
    /// unregistered procedures are found as they were after a restart.
    @Test(arguments: [PersistenceOptions.Engine.sqlite, .file])
    func proceduresSurviveARestart(_ engine: PersistenceOptions.Engine) throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file(engine == .sqlite ? "noex.db" : "data")
        func start() -> ServerThread {
            WireProcedures.server { $0.persistence = PersistenceOptions(path: db, fsync: FsyncPolicyName.always.policy, engine: engine) }
        }
        let before: [String]
        do {
            let server = start()
            #expect(server.startError == nil)
            let c = try WireProcedures.client(server)
            WireProcedures.register(c, WireProceduresTests.calcTotal)
            WireProcedures.register(c, ["name": "gone", "steps": [["action": "return", "value": 1]]])
            WireProcedures.register(c, ["name": "kept", "description": "d", "steps": [["action": "return", "value": "{{ input.v }}"]]])
            #expect(c.data(["type": "procedures.update", "name": "calc-total", "updates": ["description": "Updated", "transaction": true]])["updated"] == true)
            #expect(c.data(["type": "procedures.unregister", "name": "gone"])["unregistered"] == true)
            before = [c.askRaw(["id": 100, "type": "procedures.list"]) ?? "", c.askRaw(["id": 101, "type": "procedures.get", "name": "calc-total"]) ?? ""]
            server.stop()
        }
        let server = start()
        defer { server.stop() }
        #expect(server.startError == nil)
        let c = try WireProcedures.client(server)
        #expect([c.askRaw(["id": 100, "type": "procedures.list"]) ?? "", c.askRaw(["id": 101, "type": "procedures.get", "name": "calc-total"]) ?? ""] == before)
        #expect(before[0] == #"{"id":100,"type":"result","data":{"procedures":[{"name":"calc-total","description":"Updated","stepsCount":3},{"name":"kept","description":"d","stepsCount":1}]}}"#)
        #expect(WireProcedures.call(c, "kept", ["v": "x"])["data"]?["result"] == "x")
        #expect(c.askRaw(["id": 1, "type": "procedures.call", "name": "gone"]) == wireError(1, "NOT_FOUND", #"Procedure "gone" not found"#))
        // The restored table keeps working: register after restart, and the bucket stays guarded.
        WireProcedures.register(c, ["name": "after", "steps": [["action": "return", "value": 2]]])
        #expect(c.askRaw(["id": 2, "type": "store.all", "bucket": "_procedures"])
                == wireError(2, "FORBIDDEN", #"Cannot access system bucket "_procedures" directly"#))
    }
}
