import NoexJSON
import Testing
@testable import NoexServer

@Suite struct EnvelopeTests {
    private func error(_ parsed: JSON?) -> ServerError? {
        if case .invalid(let e) = Envelope.classify(parsed) { return e }
        return nil
    }

    @Test func invalidJSONIsAParseError() {
        #expect(error(nil) == ServerError(.parseError, "Invalid JSON"))
    }

    @Test(arguments: [JSON.array([1, 2, 3]), .null, .int(42), .string("x"), .bool(true)])
    func nonObjectsAreParseErrors(_ value: JSON) {
        #expect(error(value) == ServerError(.parseError, "Message must be a JSON object"))
    }

    @Test(arguments: [["id": 1], ["id": "x"], ["id": 1, "type": ""], ["id": 1, "type": 5], ["type": .null]] as [JSON])
    func typeIsCheckedBeforeID(_ value: JSON) {
        #expect(error(value) == ServerError(.invalidRequest, "Message must include non-empty string \"type\""))
    }

    @Test(arguments: [["type": "store.all", "bucket": "users"], ["type": "store.all", "id": "1"],
                      ["type": "x", "id": .null], ["type": "x", "id": true], ["type": "x", "id": ["a": 1]],
                      ["type": "x", "id": .double(.infinity)]] as [JSON])
    func idMustBeAFiniteNumber(_ value: JSON) {
        #expect(error(value) == ServerError(.invalidRequest, "Request must include finite numeric \"id\""))
    }

    @Test(arguments: [["type": "pong"], ["type": "pong", "timestamp": .null], ["type": "pong", "timestamp": "1"]] as [JSON])
    func pongNeedsANumericTimestamp(_ value: JSON) {
        #expect(error(value) == ServerError(.invalidRequest, "Pong must include finite numeric \"timestamp\""))
    }

    @Test func validPongIsRecognisedWithoutAnID() {
        guard case .pong(let ts) = Envelope.classify(["type": "pong", "timestamp": 1_706_745_630_000]) else {
            Issue.record("not a pong")
            return
        }
        #expect(ts == 1_706_745_630_000)
    }

    @Test(arguments: [(JSON.int(0), JSON.int(0)), (.int(-1), .int(-1)), (.double(1.5), .double(1.5)),
                      (.double(7.0), .int(7)), (.int(9_007_199_254_740_993), .int(9_007_199_254_740_993))])
    func idsAreEchoedAsNumbers(_ sent: JSON, _ echoed: JSON) {
        guard case .request(let r) = Envelope.classify(["id": sent, "type": "store.buckets"]) else {
            Issue.record("not a request")
            return
        }
        #expect(r.id == echoed)
        if case .int = echoed { #expect(r.id.intValue != nil) }
        #expect(r.type == "store.buckets")
    }

    @Test func extraFieldsAreKeptAsTopLevelSiblings() {
        guard case .request(let r) = Envelope.classify(["id": 1, "type": "store.get", "bucket": "users", "key": "u1"]) else {
            Issue.record("not a request")
            return
        }
        #expect(r["bucket"] == "users")
        #expect(r["key"] == "u1")
    }
}

@Suite struct ServerMessageTests {
    @Test func errorOmitsDetailsWhenAbsentOrHidden() {
        let plain = ServerMessage.error(id: 0, .invalidJSON)
        #expect(plain.objectValue?.keys == ["id", "type", "code", "message"])
        let detailed = ServerError(.validationError, "bad", details: [["field": "name"]])
        #expect(ServerMessage.error(id: 3, detailed).objectValue?.keys == ["id", "type", "code", "message", "details"])
        #expect(ServerMessage.error(id: 3, detailed, exposeDetails: false).objectValue?["details"] == nil)
    }

    @Test func shapesAndKeyOrderFollowTheOriginal() {
        let w = ServerMessage.welcome(serverTimeMs: 5, requiresAuth: false)
        #expect(w == ["type": "welcome", "version": "1.0.0", "serverTime": 5, "requiresAuth": false])
        #expect(w.objectValue?.keys == ["type", "version", "serverTime", "requiresAuth"])
        #expect(ServerMessage.result(id: 7, data: [1]).objectValue?.keys == ["id", "type", "data"])
        let push = ServerMessage.eventPush(subscriptionId: "sub-4", topic: "order.created", event: ["id": "e"])
        #expect(push == ["type": "push", "channel": "event", "subscriptionId": "sub-4",
                         "data": ["topic": "order.created", "event": ["id": "e"]]])
        #expect(ServerMessage.shutdown(gracePeriodMs: 5000) == ["type": "system", "event": "shutdown", "gracePeriodMs": 5000])
    }

    @Test func fieldValidationMessagesAreExact() throws {
        let r = Request(id: 1, type: "store.first", fields: ["bucket": "", "n": 0, "data": [1], "filter": 3, "key": .null])
        #expect(throws: ServerError(.validationError, "Missing or invalid \"bucket\": expected non-empty string")) { try r.nonEmptyString("bucket") }
        #expect(throws: ServerError(.validationError, "Missing or invalid \"n\": expected positive integer")) { try r.positiveInteger("n") }
        #expect(throws: ServerError(.validationError, "Missing or invalid \"data\": expected object")) { try r.object("data") }
        #expect(throws: ServerError(.validationError, "Invalid \"filter\": expected object")) { try r.optionalObject("filter") }
        #expect(throws: ServerError(.validationError, "Missing \"key\": expected non-null value")) { try r.key() }
        let ok = Request(id: 1, type: "x", fields: ["n": 2.0, "filter": .null])
        #expect(try ok.positiveInteger("n") == 2)
        #expect(try ok.optionalObject("filter") == nil)
    }
}
