import Foundation
import NoexJSON
import NoexStore
import Testing
@testable import NoexServer

/// A store for the wire tests: the demo buckets and queries plus `items`, a bucket with an
/// explicit (client-chosen) key, so that answers can be compared exactly, and a unique field.
func wireStoreFixture() -> Store {
    let store = demoStore()
    try! store.defineBucket("items", config: [
        "key": "sku",
        "schema": [
            "sku": ["type": "string", "required": true],
            "name": ["type": "string", "required": true],
            "qty": ["type": "number", "default": 0],
            "code": ["type": "string", "unique": true],
        ],
    ])
    try! store.defineQuery("all-items", config: ["bucket": "items"])
    return store
}

/// One real WebSocket connection with request ids assigned automatically; pushes that arrive
/// while waiting for an answer are kept for `nextPush`, so none is lost.
final class WireStoreClient {
    let ws: WebSocketTestClient
    private var nextId: Int64 = 1
    private var pushes: [JSON] = []
    /// The welcome message the server sent on connect.
    private(set) var welcome: JSON = .null

    convenience init(_ server: ServerThread, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try self.init(port: server.port, sourceLocation: sourceLocation)
    }

    init(port: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        ws = try #require(WebSocketTestClient(port: port), sourceLocation: sourceLocation)
        #expect(ws.upgraded, sourceLocation: sourceLocation)
        welcome = Self.parse(ws.nextText())
        #expect(welcome["type"] == "welcome", sourceLocation: sourceLocation)
    }

    static func parse(_ s: String?) -> JSON { s.flatMap { try? JSON.parse($0) } ?? .null }

    /// Sends `fields` (with a fresh `id` unless one is given) and returns the exact text of the
    /// answer carrying that id; nil when the connection ends or times out first.
    func askRaw(_ fields: JSONObject) -> String? {
        var request = fields
        if request["id"] == nil {
            request["id"] = .int(nextId)
            nextId += 1
        }
        ws.sendText(JSON.object(request).jsonString)
        return awaitAnswer(id: request["id"]!)
    }

    func ask(_ fields: JSONObject) -> JSON { Self.parse(askRaw(fields)) }

    /// The `data` of a result answer (`.null` otherwise — check with `ask` when that matters).
    func data(_ fields: JSONObject) -> JSON {
        let answer = ask(fields)
        #expect(answer["type"] == "result", "not a result: \(answer.jsonString)")
        return answer["data"] ?? .null
    }

    /// Sends a raw text frame and returns the next non-push text frame (envelope errors are
    /// answered with id 0, so they cannot be matched by id).
    func sendRaw(_ text: String) -> String? {
        ws.sendText(text)
        while let s = ws.nextText() {
            let j = Self.parse(s)
            if j["type"] == "push" { pushes.append(j); continue }
            if j["type"] == "ping" { continue }
            return s
        }
        return nil
    }

    private func awaitAnswer(id: JSON) -> String? {
        while let s = ws.nextText() {
            let j = Self.parse(s)
            if j["type"] == "push" { pushes.append(j); continue }
            if j["id"] == id { return s }
        }
        return nil
    }

    /// The next push (already received or arriving within `timeoutMs`), else nil.
    func nextPush(timeoutMs: Int = 3000) -> JSON? {
        if !pushes.isEmpty { return pushes.removeFirst() }
        ws.setTimeout(ms: timeoutMs)
        defer { ws.setTimeout(ms: 3000) }
        while let s = ws.nextText() {
            let j = Self.parse(s)
            if j["type"] == "push" { return j }
        }
        return nil
    }

    /// The pushes that arrived while waiting for answers, oldest first (consumes them). After
    /// an answer, these are every push the server wrote before it.
    func takePushes() -> [JSON] {
        defer { pushes = [] }
        return pushes
    }

    /// True when no push is pending and none arrives within `ms`.
    func noPush(withinMs ms: Int = 250) -> Bool { nextPush(timeoutMs: ms) == nil }
}

/// The exact text of an error answer, in the server's key order (docs/protocol/envelope.md).
func wireError(_ id: Int64, _ code: String, _ message: String) -> String {
    JSON.object(["id": .int(id), "type": "error", "code": .string(code), "message": .string(message)]).jsonString
}

/// A record with its generated timestamps replaced by 0, so whole records can be compared.
func wireStable(_ record: JSON?) -> JSON {
    switch record {
    case .object(var o)?:
        for k in ["_createdAt", "_updatedAt"] where o[k] != nil {
            #expect(o[k]?.intValue.map { $0 > 1_600_000_000_000 } == true, "\(k) is not a ms timestamp")
            o[k] = 0
        }
        return .object(o)
    case .array(let a)?: return .array(a.map { wireStable($0) })
    case let other?: return other
    case nil: return .null
    }
}

/// An `items` record as the store returns it, timestamps normalised.
func wireItem(_ sku: String, _ name: String, qty: Int64 = 0, version: Int64 = 1, code: String? = nil) -> JSON {
    var o: JSONObject = ["sku": .string(sku), "name": .string(name), "qty": .int(qty)]
    if let code { o["code"] = .string(code) }
    o["_version"] = .int(version)
    o["_createdAt"] = 0
    o["_updatedAt"] = 0
    return .object(o)
}
