import Foundation
import NoexJSON
import NoexRules
import Testing
@testable import NoexServer

/// Session changes and subscription scopes through the protocol core (fake transport), where
/// the wire cannot show the difference.
@Suite struct SessionSubscriptionCoreTests {
    @Test func revocationRemovesSubscriptionsBeforeItsNotice() {
        let h = Harness { $0.auth = fixtureAuth() }
        let w = h.connect()
        w.call(["id": 1, "type": "auth.login", "token": "writer"])
        #expect(w.ask(["id": 2, "type": "store.subscribe", "query": "all-users"])["type"] == "result")
        _ = w.take()
        #expect(h.core.revokeSessions(userId: "writer-1") == 1)
        // Still registered until the socket closes, but holding nothing that could push.
        #expect(h.core.connectionInfos().first?["storeSubscriptionCount"] == 0)
        let sent = h.core.pushesSent
        _ = try? h.store.insert(bucket: "users", record: ["name": "after"])
        #expect(h.core.pushesSent == sent)
        #expect(w.take() == [#"{"type":"system","event":"session_revoked","reason":"Session revoked by administrator"}"#])
    }

    @Test func optionalAuthKeepsSubscriptionsAfterLogout() {
        let h = Harness { $0.auth = fixtureAuth(required: false) }
        let c = h.connect()
        c.call(["id": 1, "type": "auth.login", "token": "reader"])
        #expect(c.ask(["id": 2, "type": "store.subscribe", "query": "all-users"])["type"] == "result")
        _ = c.take()
        c.call(["id": 3, "type": "auth.logout"])
        #expect(c.take().isEmpty)  // anonymous clients may hold any subscription when auth is optional
        #expect(h.core.connectionInfos().first?["storeSubscriptionCount"] == 1)
    }

    @Test func subscriptionPatternsMustStayInsideAllowedTopics() {
        let inside: [(String, String)] = [
            ("orders.*", "orders.*"), ("orders.eu.*", "orders.*"), ("orders.*.eu", "orders.*"), ("orders.x", "orders.*"),
            ("anything.*", "*"), ("*", "*"), ("a.b", "a.b"),
        ]
        let outside: [(String, String)] = [
            ("*", "orders.*"), ("*.created", "orders.*"), ("orders", "orders.*"), ("ordersx.*", "orders.*"),
            ("orders.*", "orders"), ("a.*", "a.b"), ("*.*", "a.*"), ("a.*.*", "a.*.*"),
        ]
        for (pattern, allowed) in inside { #expect(TopicScope.subscription(pattern, within: allowed), "\(pattern) in \(allowed)") }
        for (pattern, allowed) in outside { #expect(!TopicScope.subscription(pattern, within: allowed), "\(pattern) in \(allowed)") }
        #expect(TopicScope.factPattern("orders.1", within: "orders.*"))
        #expect(!TopicScope.factPattern("orders.*", within: "orders.*"))  // "." in a fact pattern is any character
        #expect(TopicScope.factPattern("x:*", within: "*"))
    }

    /// An embedder that keeps the rule engine after freeing the server must not crash when the
    /// engine reports a new timer deadline.
    @Test func ruleEngineOutlivesItsServer() throws {
        let box = EngineBox()
        let server = ServerThread {
            let engine = RuleEngine(config: RuleEngineConfig(name: "kept"), clock: WallRulesClock())
            box.engine = engine
            return ServerConfig(store: demoStore(), rules: engine)
        }
        server.stop()  // the loop thread ends and releases the server
        let engine = try #require(box.engine)
        #expect(engine.onTimerDeadlineChanged != nil)
        _ = try engine.setTimer(["name": "t", "duration": "1h", "onExpire": ["topic": "x"]])
        #expect(engine.nextTimerDeadlineMs != nil)
    }
}

final class EngineBox: @unchecked Sendable { var engine: RuleEngine? }
