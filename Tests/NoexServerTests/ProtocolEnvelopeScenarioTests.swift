import NoexJSON
import NoexLoop
import Testing
@testable import NoexServer

func code(_ answer: JSON) -> String? { answer["code"]?.stringValue }
func message(_ answer: JSON) -> String? { answer["message"]?.stringValue }

/// The original's scenarios T01–T05 and the envelope part of exchanges recorded from the original server, byte for byte.
@Suite struct ProtocolEnvelopeScenarioTests {
    @Test func welcomeIsExact() {
        let h = Harness()
        let c = h.connect()
        #expect(c.take() == [#"{"type":"welcome","version":"1.0.0","serverTime":1795727215924,"requiresAuth":false}"#])
        let authed = Harness { $0.auth = fixtureAuth() }.connect()
        #expect(authed.takeJSON().first?["requiresAuth"] == true)
        let optional = Harness { $0.auth = fixtureAuth(required: false) }.connect()
        #expect(optional.takeJSON().first?["requiresAuth"] == false)
    }

    @Test func envelopeErrorsT02() {
        let c = Harness().connect()
        _ = c.take()
        c.sendRaw("not valid json{{{")
        c.sendRaw("[1,2,3]")
        c.sendRaw("null")
        c.sendRaw("42")
        c.sendRaw("\"x\"")
        c.sendRaw("")
        c.sendRaw(#"{"id":1}"#)
        c.sendRaw(#"{"type":"store.all","bucket":"users"}"#)
        c.sendRaw(#"{"type":"store.all","id":"1"}"#)
        c.sendRaw(#"{"type":"store.all","id":null}"#)
        c.sendRaw(#"{"type":"pong"}"#)
        #expect(c.take() == [
            #"{"id":0,"type":"error","code":"PARSE_ERROR","message":"Invalid JSON"}"#,
            #"{"id":0,"type":"error","code":"PARSE_ERROR","message":"Message must be a JSON object"}"#,
            #"{"id":0,"type":"error","code":"PARSE_ERROR","message":"Message must be a JSON object"}"#,
            #"{"id":0,"type":"error","code":"PARSE_ERROR","message":"Message must be a JSON object"}"#,
            #"{"id":0,"type":"error","code":"PARSE_ERROR","message":"Message must be a JSON object"}"#,
            #"{"id":0,"type":"error","code":"PARSE_ERROR","message":"Invalid JSON"}"#,
            #"{"id":0,"type":"error","code":"INVALID_REQUEST","message":"Message must include non-empty string \"type\""}"#,
            #"{"id":0,"type":"error","code":"INVALID_REQUEST","message":"Request must include finite numeric \"id\""}"#,
            #"{"id":0,"type":"error","code":"INVALID_REQUEST","message":"Request must include finite numeric \"id\""}"#,
            #"{"id":0,"type":"error","code":"INVALID_REQUEST","message":"Request must include finite numeric \"id\""}"#,
            #"{"id":0,"type":"error","code":"INVALID_REQUEST","message":"Pong must include finite numeric \"timestamp\""}"#,
        ])
        #expect(c.ask(["id": 2, "type": "store.buckets"])["type"] == "result")
    }

    @Test func unknownOperationsAndIdEchoT03() {
        let c = Harness().connect()
        #expect(c.call(["id": 3, "type": "totally.unknown"]) == #"{"id":3,"type":"error","code":"UNKNOWN_OPERATION","message":"Unknown operation \"totally.unknown\""}"#)
        #expect(c.call(["id": 4, "type": "store.nonexistent", "bucket": "users"]) == #"{"id":4,"type":"error","code":"UNKNOWN_OPERATION","message":"Unknown store operation \"store.nonexistent\""}"#)
        #expect(code(c.ask(["id": 5, "type": "server.unknown"])) == "UNKNOWN_OPERATION")
        c.sendRaw(#"{"id":0,"type":"store.buckets"}"#)
        c.sendRaw(#"{"id":-1,"type":"store.buckets"}"#)
        c.sendRaw(#"{"id":1.5,"type":"store.buckets"}"#)
        c.sendRaw(#"{"id":7.0,"type":"store.buckets"}"#)
        let ids = c.take().filter { $0.contains("result") }.map { String($0.prefix(while: { $0 != "," })) }
        #expect(ids == [#"{"id":0"#, #"{"id":-1"#, #"{"id":1.5"#, #"{"id":7"#])
    }

    @Test func pongAndPingRequestT04() {
        let h = Harness { $0.auth = fixtureAuth() }
        let c = h.connect()
        _ = c.take()
        c.sendRaw(#"{"type":"pong","timestamp":1795727215924}"#)
        #expect(c.take().isEmpty)
        #expect(h.transport.pongs[c.id] == 1)
        #expect(c.call(["id": 7, "type": "ping"]) == #"{"id":7,"type":"error","code":"UNKNOWN_OPERATION","message":"Unknown operation \"ping\""}"#)
    }

    @Test func heartbeatPingAndStalePong() {
        let h = Harness()
        let c = h.connect()
        _ = c.take()
        h.clock.advance(30_000)
        h.core.heartbeatDue(c.id)
        #expect(c.take() == [#"{"type":"ping","timestamp":1795727245924}"#])
        c.sendRaw(#"{"type":"pong","timestamp":1795727215924}"#)  // older than the ping: does not count
        #expect(h.transport.pongs[c.id] == nil)
        c.sendRaw(#"{"type":"pong","timestamp":1795727245924}"#)
        #expect(h.transport.pongs[c.id] == 1)
    }

    @Test func featuresNotConfiguredT25T28() {
        let c = Harness().connect()
        for type in ["rules.emit", "rules.setFact", "rules.getFact", "rules.deleteFact", "rules.queryFacts",
                     "rules.getAllFacts", "rules.subscribe", "rules.unsubscribe", "rules.stats", "rules.whatever"] {
            #expect(c.call(["id": 1, "type": .string(type), "subscriptionId": "sub-1"])
                    == #"{"id":1,"type":"error","code":"RULES_NOT_AVAILABLE","message":"Rule engine is not configured"}"#)
        }
        #expect(c.call(["id": 18, "type": "auth.whoami"]) == #"{"id":18,"type":"error","code":"UNKNOWN_OPERATION","message":"Authentication is not configured"}"#)
        #expect(message(c.ask(["id": 2, "type": "auth.login", "token": "x"])) == "Authentication is not configured")
        #expect(message(c.ask(["id": 3, "type": "identity.login"])) == "Identity management is not configured")
        #expect(message(c.ask(["id": 4, "type": "audit.query"])) == "Audit log is not configured")
        // Procedures need no configuration (docs/procedures.md).
        #expect(c.call(["id": 5, "type": "procedures.list"]) == #"{"id":5,"type":"result","data":{"procedures":[]}}"#)
    }

    @Test func connectionLimitPerAddressT34b() {
        let h = Harness { $0.maxConnectionsPerIp = 2 }
        let a = h.connect()
        _ = h.connect()
        let third = h.connect()
        #expect(third.closed?.code == 4003 && third.closed?.reason == "too_many_connections")
        #expect(third.all.isEmpty)  // no welcome
        #expect(h.connect("10.0.0.2").closed == nil)
        a.disconnect()
        let again = h.connect()
        #expect(again.closed == nil)
        #expect(h.core.connectionCount == 3)
    }

    @Test func shutdownNoticeAndLateHandshake() {
        let h = Harness()
        let a = h.connect()
        _ = a.take()
        h.core.stopping(gracePeriodMs: 500)
        #expect(a.take() == [#"{"type":"system","event":"shutdown","gracePeriodMs":500}"#])
        #expect(a.ask(["id": 1, "type": "store.count", "bucket": "users"])["data"] == 0)  // still served
        #expect(h.connect().closed?.code == 1001)
    }
}
