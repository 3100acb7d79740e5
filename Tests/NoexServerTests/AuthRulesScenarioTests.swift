import NoexJSON
import NoexLoop
import NoexRules
import Testing
@testable import NoexServer

/// The config file that reproduces the original server's recorded auth scenario (also in docs/config.md).
let transcriptAuthConfig = """
    {
      "rateLimit": {"maxRequests": 20, "windowMs": 60000},
      "auth": {
        "tokens": {
          "user-token": {"userId": "user-1", "roles": ["user"]},
          "reader-token": {"userId": "reader-1", "roles": ["reader"]},
          "admin-token": {"userId": "admin-1", "roles": ["admin"]}
        },
        "permissions": {
          "default": "deny",
          "rules": [
            {"role": "admin", "allow": "*"},
            {"role": "reader", "allow": ["store.get", "store.all", "store.where", "store.findOne", "store.count"]},
            {"role": "user", "allow": ["store.insert", "store.get", "store.all", "store.where", "store.count"], "buckets": ["users"]}
          ]
        }
      }
    }
    """

/// The original's scenarios T26–T31, T33 (revocation), T23–T24, T37 and the transcript's auth scenario.
@Suite struct AuthRulesScenarioTests {
    @Test func transcriptAuthScenarioFromAConfigFile() throws {
        let file = try FileConfig.decode(try JSON.parse(transcriptAuthConfig))
        let h = Harness { config in
            config.auth = file.auth?.authConfig
            config.rateLimit = file.rateLimit
        }
        let a = h.connect()
        #expect(a.takeJSON().first?["requiresAuth"] == true)
        #expect(a.call(["bucket": "users", "id": 1, "type": "store.all"]) == #"{"id":1,"type":"error","code":"UNAUTHORIZED","message":"Authentication required"}"#)
        #expect(a.call(["id": 2, "token": "wrong-token", "type": "auth.login"]) == #"{"id":2,"type":"error","code":"UNAUTHORIZED","message":"Invalid token"}"#)
        #expect(a.call(["id": 3, "token": "user-token", "type": "auth.login"]) == #"{"id":3,"type":"result","data":{"userId":"user-1","roles":["user"],"expiresAt":null}}"#)
        #expect(a.call(["id": 4, "type": "auth.whoami"]) == #"{"id":4,"type":"result","data":{"authenticated":true,"userId":"user-1","roles":["user"],"expiresAt":null}}"#)
        let dave = a.data(["bucket": "users", "data": ["name": "Dave"], "id": 5, "type": "store.insert"])
        #expect(a.call(["bucket": "logs", "data": ["action": "x"], "id": 6, "type": "store.insert"]) == #"{"id":6,"type":"error","code":"FORBIDDEN","message":"No permission for store.insert on logs"}"#)
        #expect(message(a.ask(["bucket": "users", "id": 7, "key": dave["id"] ?? .null, "type": "store.delete"])) == "No permission for store.delete on users")
        #expect(message(a.ask(["bucket": "users", "id": 8, "type": "store.clear"])) == "No permission for store.clear on users")
        #expect(a.data(["id": 9, "type": "auth.logout"]) == ["loggedOut": true])
        #expect(code(a.ask(["bucket": "users", "id": 10, "type": "store.all"])) == "UNAUTHORIZED")
        let b = h.connect()
        #expect(b.data(["id": 1, "token": "reader-token", "type": "auth.login"])["userId"] == "reader-1")
        #expect(b.data(["bucket": "users", "id": 2, "type": "store.all"]).arrayValue?.first?["name"] == "Dave")
        #expect(b.call(["bucket": "users", "data": ["name": "Eve"], "id": 3, "type": "store.insert"]) == #"{"id":3,"type":"error","code":"FORBIDDEN","message":"Role level insufficient for store.insert (requires write)"}"#)
        let c = h.connect()
        c.call(["id": 1, "token": "admin-token", "type": "auth.login"])
        #expect(c.data(["bucket": "users", "id": 2, "key": dave["id"] ?? .null, "type": "store.delete"]) == ["deleted": true])
        #expect(c.data(["id": 3, "type": "store.stats"])["name"] == "test-store")
        // user-1 used 3 of 20 (whoami, insert, logout); logins are charged to the address.
        let d = h.connect()
        d.call(["id": 1, "token": "user-token", "type": "auth.login"])
        for i in 2...18 { #expect(d.data(["bucket": "users", "id": .int(Int64(i)), "type": "store.count"]) == 0) }
        let limited = d.ask(["bucket": "users", "id": 19, "type": "store.count"])
        #expect(code(limited) == "RATE_LIMITED")
        #expect(message(limited) == "Rate limit exceeded. Retry after 60000ms")
        #expect(limited["details"] == ["retryAfterMs": 60000])
        #expect(code(d.ask(["bucket": "users", "id": 20, "type": "store.count"])) == "RATE_LIMITED")
    }

    @Test func expiryT27() {
        let h = Harness { $0.auth = fixtureAuth(expiresAt: 1_795_727_215_924 + 200) }
        let c = h.connect()
        #expect(c.data(["id": 1, "type": "auth.login", "token": "writer"])["expiresAt"] == 1_795_727_216_124)
        h.clock.advance(300)
        #expect(message(c.ask(["id": 2, "type": "store.all", "bucket": "users"])) == "Session expired")
        #expect(c.data(["id": 3, "type": "auth.whoami"]) == ["authenticated": false])
        #expect(message(c.ask(["id": 4, "type": "store.all", "bucket": "users"])) == "Authentication required")
        let past = Harness { $0.auth = fixtureAuth(expiresAt: 1_795_727_215_924 - 1000) }.connect()
        #expect(message(past.ask(["id": 1, "type": "auth.login", "token": "writer"])) == "Token has expired")
    }

    @Test func rateLimitSharedByAddressThenPerUserT31() {
        let h = Harness { $0.rateLimit = RateLimitConfig(maxRequests: 3, windowMs: 200) }
        let a = h.connect()
        let b = h.connect()
        #expect(a.ask(["id": 1, "type": "store.buckets"])["type"] == "result")
        #expect(b.ask(["id": 1, "type": "store.buckets"])["type"] == "result")
        #expect(a.ask(["id": 2, "type": "store.buckets"])["type"] == "result")
        let limited = b.ask(["id": 2, "type": "store.buckets"])
        #expect(code(limited) == "RATE_LIMITED" && limited["details"]?["retryAfterMs"] == 200)
        #expect(h.connect("10.0.0.9").ask(["id": 1, "type": "store.buckets"])["type"] == "result")
        h.clock.advance(250)
        #expect(b.ask(["id": 3, "type": "store.buckets"])["type"] == "result")
        let authed = Harness { $0.auth = fixtureAuth(); $0.rateLimit = RateLimitConfig(maxRequests: 1, windowMs: 60000) }
        let u = authed.connect()
        #expect(u.ask(["id": 1, "type": "auth.login", "token": "writer"])["type"] == "result")  // charged to the address
        #expect(u.ask(["id": 2, "type": "store.buckets"])["type"] == "result")  // writer-1's own budget
        #expect(code(u.ask(["id": 3, "type": "store.buckets"])) == "RATE_LIMITED")
        // auth rejections do not consume quota
        let anon = authed.connect("10.1.1.1")
        for i in 1...3 { #expect(code(anon.ask(["id": .int(Int64(i)), "type": "store.all", "bucket": "users"])) == "UNAUTHORIZED") }
        #expect(anon.ask(["id": 4, "type": "auth.whoami"])["type"] == "result")
    }

    @Test func revocationT33() {
        let h = Harness { $0.auth = fixtureAuth() }
        let w = h.connect()
        let r = h.connect()
        w.call(["id": 1, "type": "auth.login", "token": "writer"])
        r.call(["id": 1, "type": "auth.login", "token": "reader"])
        _ = w.take()
        #expect(h.core.connectionInfos().map { $0["userId"] } == ["writer-1", "reader-1"])
        #expect(h.core.connectionInfos().first?.objectValue?.keys == ["connectionId", "remoteAddress", "connectedAt", "authenticated", "userId", "roles", "storeSubscriptionCount", "rulesSubscriptionCount"])
        #expect(h.core.revokeSessions(userId: "writer-1") == 1)
        #expect(w.take() == [#"{"type":"system","event":"session_revoked","reason":"Session revoked by administrator"}"#])
        #expect(w.closed?.code == 4002 && w.closed?.reason == "session_revoked")
        #expect(r.closed == nil)
        let again = h.connect()
        #expect(again.call(["id": 1, "type": "auth.login", "token": "writer"]) == #"{"id":1,"type":"error","code":"SESSION_REVOKED","message":"Session has been revoked"}"#)
        h.clock.advance(3_600_001)
        #expect(again.ask(["id": 2, "type": "auth.login", "token": "writer"])["type"] == "result")
        #expect(h.core.revokeSessions(role: "reader") == 1)
    }

    @Test func serverOpsTiersT29() {
        let h = Harness { $0.auth = fixtureAuth() }
        let admin = h.connect()
        admin.call(["id": 1, "type": "auth.login", "token": "admin"])
        let stats = admin.data(["id": 2, "type": "server.stats"])
        #expect(stats.objectValue?.keys == ["name", "connectionCount", "authEnabled", "rateLimitEnabled", "rulesEnabled", "connections", "store", "rules"])
        #expect(stats["authEnabled"] == true && stats["connections"]?["authenticated"] == 1 && stats["rules"] == .null)
        #expect(admin.data(["id": 3, "type": "server.connections"]).arrayValue?.first?["roles"] == ["admin"])
        let writer = h.connect()
        writer.call(["id": 1, "type": "auth.login", "token": "writer"])
        #expect(writer.call(["id": 2, "type": "server.stats"]) == #"{"id":2,"type":"error","code":"FORBIDDEN","message":"Role level insufficient for server.stats (requires admin)"}"#)
        #expect(code(writer.ask(["id": 3, "type": "procedures.register"])) == "FORBIDDEN")
        let custom = h.connect()
        custom.call(["id": 1, "type": "auth.login", "token": "custom"])
        #expect(custom.ask(["id": 2, "type": "server.stats"])["type"] == "result")
    }

    private func rulesHarness(limits: ConnectionLimits = ConnectionLimits()) -> (Harness, RuleEngine) {
        let engine = RuleEngine(clock: ManualRulesClock(startMs: 1_795_727_215_924))
        return (Harness { $0.rules = engine; $0.connectionLimits = limits }, engine)
    }

    @Test func rulesEventsT23() {
        let (h, _) = rulesHarness()
        let a = h.connect()
        let b = h.connect()
        let ev = a.data(["id": 40, "type": "rules.emit", "topic": "order.created", "data": ["orderId": "123", "total": 99]])
        #expect(ev["topic"] == "order.created" && ev["data"] == ["orderId": "123", "total": 99] && ev["source"] == "api")
        #expect(a.data(["id": 41, "type": "rules.emit", "topic": "x"])["data"] == [:])
        #expect(a.data(["id": 42, "type": "rules.emit", "topic": "x", "correlationId": "corr-001"])["correlationId"] == "corr-001")
        #expect(code(a.ask(["id": 43, "type": "rules.emit"])) == "VALIDATION_ERROR")
        #expect(message(a.ask(["id": 44, "type": "rules.emit", "topic": "x", "data": 3])) == "Invalid \"data\": expected object")
        #expect(message(a.ask(["id": 45, "type": "rules.emit", "topic": "x", "correlationId": ""])) == "Invalid \"correlationId\": expected non-empty string")
        #expect(b.data(["id": 1, "type": "rules.subscribe", "pattern": "order.*"]) == ["subscriptionId": "sub-1"])
        a.call(["id": 46, "type": "rules.emit", "topic": "order.created", "data": ["orderId": "abc"]])
        let push = b.pushes()
        #expect(push.count == 1)
        #expect(push.first?["channel"] == "event" && push.first?["subscriptionId"] == "sub-1")
        #expect(push.first?["data"]?["topic"] == "order.created" && push.first?["data"]?["event"]?["data"] == ["orderId": "abc"])
        #expect(h.transport.kinds[b.id]?.last == .push)
        a.call(["id": 47, "type": "rules.emit", "topic": "payment.received"])
        #expect(b.pushes().isEmpty)
        #expect(b.data(["id": 2, "type": "rules.unsubscribe", "subscriptionId": "sub-1"]) == ["unsubscribed": true])
        #expect(code(b.ask(["id": 3, "type": "rules.unsubscribe", "subscriptionId": "sub-1"])) == "NOT_FOUND")
        #expect(code(b.ask(["id": 4, "type": "rules.subscribe"])) == "VALIDATION_ERROR")
        // a rules.emit's own push goes before its answer (the original's order)
        a.call(["id": 48, "type": "rules.subscribe", "pattern": "*"])
        _ = a.take()
        a.sendRaw(#"{"id":49,"type":"rules.emit","topic":"any.event"}"#)
        #expect(a.takeJSON().map { $0["type"] } == ["push", "result"])
    }

    @Test func factsAndStatsT24() {
        let (h, _) = rulesHarness()
        let c = h.connect()
        #expect(c.data(["id": 1, "type": "rules.getAllFacts"]) == [])
        let fact = c.data(["id": 2, "type": "rules.setFact", "key": "user:1:name", "value": "Alice"])
        #expect(fact["key"] == "user:1:name" && fact["value"] == "Alice" && fact["version"] == 1)
        #expect(c.data(["id": 3, "type": "rules.getFact", "key": "user:1:name"]) == "Alice")
        #expect(c.call(["id": 4, "type": "rules.getFact", "key": "nope"]) == #"{"id":4,"type":"result","data":null}"#)
        #expect(message(c.ask(["id": 5, "type": "rules.setFact", "key": "k"])) == "Missing \"value\": expected a value")
        #expect(code(c.ask(["id": 6, "type": "rules.setFact", "value": 1])) == "VALIDATION_ERROR")
        c.call(["id": 7, "type": "rules.setFact", "key": "user:2:name", "value": "Bob"])
        c.call(["id": 8, "type": "rules.setFact", "key": "system:version", "value": .null])
        #expect(c.data(["id": 9, "type": "rules.queryFacts", "pattern": "user:*:name"]).arrayValue?.count == 2)
        #expect(c.data(["id": 10, "type": "rules.queryFacts", "pattern": "nothing:*"]) == [])
        #expect(c.data(["id": 11, "type": "rules.deleteFact", "key": "user:2:name"]) == ["deleted": true])
        #expect(c.data(["id": 12, "type": "rules.deleteFact", "key": "user:2:name"]) == ["deleted": false])
        let stats = c.data(["id": 13, "type": "rules.stats"])
        #expect(stats["rulesCount"] == 0 && stats["factsCount"] == 2 && stats["eventsProcessed"]?.isNumber == true)
        #expect(c.call(["id": 14, "type": "rules.nonexistent"]) == #"{"id":14,"type":"error","code":"UNKNOWN_OPERATION","message":"Unknown rules operation \"rules.nonexistent\""}"#)
        #expect(c.data(["id": 15, "type": "server.stats"])["rulesEnabled"] == true)
    }

    @Test func mixedSubscriptionLimitT18() {
        let (h, _) = rulesHarness(limits: ConnectionLimits(maxSubscriptionsPerConnection: 3))
        let c = h.connect()
        c.call(["id": 1, "type": "store.subscribe", "query": "all-users"])
        c.call(["id": 2, "type": "store.subscribe", "query": "user-count"])
        #expect(c.data(["id": 3, "type": "rules.subscribe", "pattern": "a.*"]) == ["subscriptionId": "sub-3"])
        #expect(message(c.ask(["id": 4, "type": "rules.subscribe", "pattern": "b"])) == "Subscription limit reached (max 3 per connection)")
        #expect(code(c.ask(["id": 5, "type": "store.unsubscribe", "subscriptionId": "sub-3"])) == "NOT_FOUND")  // a rules id
        c.call(["id": 6, "type": "rules.unsubscribe", "subscriptionId": "sub-3"])
        #expect(c.ask(["id": 7, "type": "rules.subscribe", "pattern": "b"])["type"] == "result")
        #expect(h.core.connectionInfos().first?["rulesSubscriptionCount"] == 1)
    }

    @Test func adminRulesT37() {
        let (h, _) = rulesHarness()
        let c = h.connect()
        let rule: JSON = ["id": "fire-test", "name": "Rule fire-test", "priority": 100, "enabled": true, "tags": ["test"],
                          "trigger": ["type": "event", "topic": "test.trigger"], "conditions": [],
                          "actions": [["type": "emit_event", "topic": "output.fire-test", "data": ["source": "fire-test"]]]]
        let reg = c.data(["id": 1, "type": "rules.registerRule", "rule": rule])
        #expect(reg["id"] == "fire-test" && reg["name"] == "Rule fire-test" && reg["version"]?.isNumber == true)
        c.call(["id": 2, "type": "rules.subscribe", "pattern": "output.*"])
        c.call(["id": 3, "type": "rules.emit", "topic": "test.trigger"])
        #expect(c.pushes().first?["data"]?["topic"] == "output.fire-test")
        #expect(code(c.ask(["id": 4, "type": "rules.registerRule", "rule": rule])) == "ALREADY_EXISTS")
        #expect(message(c.ask(["id": 5, "type": "rules.registerRule"])) == "Missing or invalid \"rule\": expected object")
        #expect(c.data(["id": 6, "type": "rules.disableRule", "ruleId": "fire-test"]) == ["ruleId": "fire-test", "enabled": false])
        #expect(c.data(["id": 7, "type": "rules.enableRule", "ruleId": "fire-test"]) == ["ruleId": "fire-test", "enabled": true])
        #expect(code(c.ask(["id": 8, "type": "rules.enableRule", "ruleId": "ghost"])) == "NOT_FOUND")
        #expect(c.data(["id": 9, "type": "rules.getRules"])["rules"]?.arrayValue?.count == 1)
        #expect(c.data(["id": 10, "type": "rules.validateRule", "rule": ["id": "invalid"]])["valid"] == false)
        #expect(c.data(["id": 11, "type": "rules.unregisterRule", "ruleId": "fire-test"]) == ["ruleId": "fire-test", "unregistered": true])
        #expect(code(c.ask(["id": 12, "type": "rules.getRule", "ruleId": "fire-test"])) == "NOT_FOUND")
    }
}

/// The reference transcript's rules scenario ("--rules --bridge"), from a config file with
/// `ruleDefinitions` and `bridgeStoreToRules`, through the binary's start path (LaunchPlan.prepare).
@Suite struct TranscriptRulesScenarioTests {
    static let config = """
        {
          "bridgeStoreToRules": true,
          "ruleDefinitions": {"rules": [{
            "id": "large-order", "name": "Large order", "priority": 10, "enabled": true, "tags": [],
            "trigger": {"type": "event", "topic": "order.created"},
            "conditions": [{"source": {"type": "event", "field": "amount"}, "operator": "gt", "value": 100}],
            "actions": [
              {"type": "emit_event", "topic": "notification.large-order",
               "data": {"amount": {"ref": "event.amount"}, "orderId": {"ref": "event.orderId"}}},
              {"type": "set_fact", "key": "order:${event.orderId}:large", "value": true}
            ]
          }]},
          "buckets": {"users": {"key": "id", "schema": {"id": {"type": "string", "generated": "uuid"},
                      "name": {"type": "string", "required": true}, "role": {"type": "string", "default": "user"},
                      "credits": {"type": "number", "default": 0}}}}
        }
        """

    @Test func replay() throws {
        let file = try FileConfig.decode(try JSON.parse(Self.config))
        let plan = try LaunchPlan.resolve(CommandLineOptions(), file: file)
        let h = Harness(config: try plan.prepare())
        let b = h.connect()
        #expect(b.data(["id": 1, "pattern": "notification.*", "type": "rules.subscribe"]) == ["subscriptionId": "sub-1"])
        let a = h.connect()
        let e1 = a.data(["data": ["amount": 50, "orderId": "o-1"], "id": 1, "topic": "order.created", "type": "rules.emit"])
        #expect(e1["source"] == "api" && e1["data"] == ["amount": 50, "orderId": "o-1"])
        #expect(b.pushes().isEmpty)
        a.call(["data": ["amount": 250, "orderId": "o-2"], "id": 2, "topic": "order.created", "type": "rules.emit"])
        let push = b.pushes()
        #expect(push.count == 1)
        #expect(push.first?["data"]?["topic"] == "notification.large-order")
        #expect(push.first?["data"]?["event"]?["source"] == "rule")
        #expect(push.first?["data"]?["event"]?["data"] == ["amount": 250, "orderId": "o-2"])
        #expect(a.data(["id": 3, "key": "order:o-2:large", "type": "rules.getFact"]) == true)
        let c = h.connect()
        c.call(["id": 1, "pattern": "bucket.users.*", "type": "rules.subscribe"])
        let frank = a.data(["bucket": "users", "data": ["name": "Frank"], "id": 9, "type": "store.insert"])
        let bridged = c.pushes()
        #expect(bridged.first?["data"]?["topic"] == "bucket.users.inserted")
        #expect(bridged.first?["data"]?["event"]?["data"]?["record"] == frank)
        #expect(bridged.first?["data"]?["event"]?["data"]?["type"] == "inserted")
        let stats = a.data(["id": 10, "type": "rules.stats"])
        #expect(stats["rulesCount"] == 1 && stats["rulesExecuted"] == 1)
    }

    @Test func badRuleDefinitionsNameTheKey() throws {
        let file = try FileConfig.decode(["ruleDefinitions": ["rules": [["id": "x"]]]])
        let plan = try LaunchPlan.resolve(CommandLineOptions(), file: file)
        #expect(throws: CommandLineError.self) { try plan.prepare() }
        do { _ = try plan.prepare() } catch { #expect(error.message.hasPrefix("config key \"ruleDefinitions\"")) }
        var noRules = CommandLineOptions()
        noRules.noRules = true
        #expect(throws: CommandLineError.self) { try LaunchPlan.resolve(noRules, file: file).prepare() }
    }
}
