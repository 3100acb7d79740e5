import Foundation
import NoexJSON
import NoexRules
import Testing
@testable import NoexServer

/// Helpers for the rules scenarios over real sockets (docs/rules.md): a NoexServer on its own loop
/// thread with a wall-clock rule engine, and a blocking WebSocket client that keeps the order in
/// which pushes and answers arrive.
enum WireRules {
    /// A server on 127.0.0.1 port 0 with the demo store and (unless `engine` is false) a fresh
    /// rule engine named as the binary names it; `configure` runs on the server thread.
    static func server(engine: Bool = true,
                       _ configure: @escaping @Sendable (inout ServerConfig) -> Void = { _ in }) -> ServerThread {
        ServerThread {
            let rules = engine ? RuleEngine(config: RuleEngineConfig(name: "rule-engine"), clock: WallRulesClock()) : nil
            var config = ServerConfig(store: demoStore(), rules: rules)
            configure(&config)
            return config
        }
    }

    static func parse(_ s: String?) -> JSON { s.flatMap { try? JSON.parse($0) } ?? .null }

    // MARK: Rule builders (docs/protocol/rule-format.md)

    static func ref(_ path: String) -> JSON { ["ref": .string(path)] }

    static func emit(_ topic: String, _ data: JSON = [:]) -> JSON {
        ["type": "emit_event", "topic": .string(topic), "data": data]
    }

    static func setFact(_ key: String, _ value: JSON) -> JSON {
        ["type": "set_fact", "key": .string(key), "value": value]
    }

    static func cond(_ source: JSON, _ op: String, _ value: JSON? = nil) -> JSON {
        var o: JSONObject = ["source": source, "operator": .string(op)]
        if let value { o["value"] = value }
        return .object(o)
    }

    static func field(_ name: String) -> JSON { ["type": "event", "field": .string(name)] }
    static func fact(_ pattern: String) -> JSON { ["type": "fact", "pattern": .string(pattern)] }

    static func rule(_ id: String, trigger: JSON, priority: Int64 = 0, enabled: Bool = true,
                     conditions: [JSON] = [], actions: [JSON]) -> JSON {
        ["id": .string(id), "name": .string("Rule \(id)"), "priority": .int(priority), "enabled": .bool(enabled),
         "tags": [], "trigger": trigger, "conditions": .array(conditions), "actions": .array(actions)]
    }

    static func onEvent(_ id: String, _ topic: String, priority: Int64 = 0, conditions: [JSON] = [], actions: [JSON]) -> JSON {
        rule(id, trigger: ["type": "event", "topic": .string(topic)], priority: priority, conditions: conditions, actions: actions)
    }

    /// The rule of scenario 14 (and 21–23, 25).
    static let r1: JSON = [
        "id": "r1", "name": "Rule r1", "priority": 100, "enabled": true, "tags": ["test"],
        "trigger": ["type": "event", "topic": "t.x"], "conditions": [],
        "actions": [["type": "emit_event", "topic": "output.r1", "data": ["source": "r1"]]],
    ]
}

/// One client connection. Every request gets the next id; every frame received while waiting
/// for an answer is kept: pushes in `pushes`, and a line per frame in `log`
/// (`push(<subscriptionId>, <topic>)`, `result` or `error`), so tests can check the order.
final class WireRulesClient {
    let ws: WebSocketTestClient
    private(set) var lastId: Int64 = 0
    var pushes: [JSON] = []
    var log: [String] = []
    /// Frames that were neither pushes nor the awaited answer (none expected in these tests).
    var strays: [String] = []
    private static let readTimeoutMs = 2000

    init(_ server: ServerThread, sourceLocation: SourceLocation = #_sourceLocation) throws {
        ws = try #require(WebSocketTestClient(port: server.port, timeoutMs: Self.readTimeoutMs), sourceLocation: sourceLocation)
        #expect(ws.upgraded, sourceLocation: sourceLocation)
        let welcome = WireRules.parse(ws.nextText())
        #expect(welcome["type"] == "welcome", sourceLocation: sourceLocation)
    }

    /// The request as the original's clients send it: fields top-level next to `id` and `type`.
    func request(_ type: String, _ fields: KeyValuePairs<String, JSON>) -> JSON {
        lastId += 1
        var o: JSONObject = ["id": .int(lastId), "type": .string(type)]
        for (k, v) in fields { o[k] = v }
        return .object(o)
    }

    /// Sends a request and returns its answer's exact text (`<no answer>` on timeout or close).
    /// Pushes arriving before the answer are recorded in `pushes` and `log`.
    @discardableResult
    func call(_ type: String, _ fields: KeyValuePairs<String, JSON> = [:]) -> String {
        let r = request(type, fields)
        ws.sendText(r.jsonString)
        while true {
            guard let s = ws.nextText() else { return "<no answer>" }
            let f = WireRules.parse(s)
            if record(f) { continue }
            if f["id"] == r["id"] {
                log.append(f["type"]?.stringValue ?? "?")
                return s
            }
            strays.append(s)
        }
    }

    /// Records a push; false for anything else.
    private func record(_ f: JSON) -> Bool {
        guard f["type"] == "push" else { return false }
        pushes.append(f)
        log.append("push(\(f["subscriptionId"]?.stringValue ?? "?"), \(f["data"]?["topic"]?.stringValue ?? "?"))")
        return true
    }

    /// The `data` of a result; the answer must be exactly `{"id":<id>,"type":"result","data":…}`.
    @discardableResult
    func data(_ type: String, _ fields: KeyValuePairs<String, JSON> = [:],
              sourceLocation: SourceLocation = #_sourceLocation) -> JSON {
        let raw = call(type, fields)
        let f = WireRules.parse(raw)
        #expect(f.objectValue?.keys == ["id", "type", "data"] && f["type"] == "result" && f["id"] == .int(lastId),
                "not a result: \(raw)", sourceLocation: sourceLocation)
        return f["data"] ?? .null
    }

    /// Expects exactly the error frame `{"id","type":"error","code","message"[,"details"]}`.
    func expectError(_ type: String, _ fields: KeyValuePairs<String, JSON> = [:], code: String, message: String,
                     details: JSON? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let raw = call(type, fields)
        var expected: JSONObject = ["id": .int(lastId), "type": "error", "code": .string(code), "message": .string(message)]
        if let details { expected["details"] = details }
        #expect(raw == JSON.object(expected).jsonString, sourceLocation: sourceLocation)
    }

    /// Pushes received so far (and clears them and the log).
    func takePushes() -> [JSON] {
        defer {
            pushes = []
            log = []
        }
        return pushes
    }

    /// A round trip that nothing else depends on: every push the server wrote to this socket
    /// before handling it arrives first (one loop, one ordered stream). Returns and clears pushes.
    func sync() -> [JSON] {
        let raw = call("rules.getFact", ["key": "__sync__"])
        #expect(raw != "<no answer>")
        log.removeLast()
        return takePushes()
    }

    /// Waits up to `ms` for a frame nobody asked for; nil if none arrives.
    func waitPush(ms: Int) -> JSON? {
        ws.setTimeout(ms: ms)
        defer { ws.setTimeout(ms: Self.readTimeoutMs) }
        guard let s = ws.nextText() else { return nil }
        let f = WireRules.parse(s)
        if !record(f) { strays.append(s) }
        return f
    }

    /// Closes the connection with the closing handshake (1000) and waits for the answer.
    func close() {
        ws.sendFrame(opcode: 0x8, [0x03, 0xE8])
        for _ in 0..<5 {
            if case .close = ws.next() { return }
        }
    }
}

/// Checks a push frame's exact envelope: key order, channel, subscription, `data.topic` equal to
/// `data.event.topic`; returns the event.
@discardableResult
func expectRulesPush(_ push: JSON?, sub: String?, topic: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSON {
    let p = push ?? .null
    #expect(p.objectValue?.keys == ["type", "channel", "subscriptionId", "data"], "\(p)", sourceLocation: sourceLocation)
    #expect(p["type"] == "push" && p["channel"] == "event", sourceLocation: sourceLocation)
    #expect(p["subscriptionId"]?.stringValue == sub, sourceLocation: sourceLocation)
    #expect(p["data"]?.objectValue?.keys == ["topic", "event"], sourceLocation: sourceLocation)
    #expect(p["data"]?["topic"]?.stringValue == topic, sourceLocation: sourceLocation)
    let event = p["data"]?["event"] ?? .null
    #expect(event["topic"]?.stringValue == topic, sourceLocation: sourceLocation)
    #expect(event["id"]?.stringValue?.isEmpty == false && event["timestamp"]?.intValue != nil, sourceLocation: sourceLocation)
    return event
}
