import NoexJSON
import NoexLoop
import NoexStore
@testable import NoexServer

/// Frames recorded per connection instead of a socket; lets every operation be checked without I/O.
final class FakeTransport: ProtocolTransport {
    var frames: [ConnectionID: [String]] = [:]
    var kinds: [ConnectionID: [SendKind]] = [:]
    var closes: [ConnectionID: (code: UInt16, reason: String)] = [:]
    var buffered: [ConnectionID: Int] = [:]
    var pongs: [ConnectionID: Int] = [:]
    /// Connections whose pushes are dropped, as the real transport does above the hard limit.
    var droppingPushes: Set<ConnectionID> = []

    func send(_ id: ConnectionID, text bytes: [UInt8], kind: SendKind) -> SendResult {
        if closes[id] != nil { return .notOpen }
        if droppingPushes.contains(id), kind != .response { return .dropped }
        frames[id, default: []].append(String(decoding: bytes, as: UTF8.self))
        kinds[id, default: []].append(kind)
        return .queued
    }

    func close(_ id: ConnectionID, code: UInt16, reason: String) {
        if closes[id] == nil { closes[id] = (code, reason) }
    }

    func bufferedBytes(_ id: ConnectionID) -> Int? { buffered[id] ?? 0 }
    func pongReceived(_ id: ConnectionID) { pongs[id, default: 0] += 1 }
}

/// A controllable clock shared by the store and the protocol core.
final class FakeClock {
    var wallMs: Int64 = 1_795_727_215_924
    var monotonicMs: Int64 = 10_000
    func advance(_ ms: Int64) {
        wallMs += ms
        monotonicMs += ms
    }
}

/// One protocol core over a fake transport, with helpers to act as clients.
final class Harness {
    let clock = FakeClock()
    let transport = FakeTransport()
    let store: Store
    let core: ProtocolCore
    private var nextIndex: UInt32 = 0

    init(fixtureS: Bool = true, fixtureQ: Bool = true, configure: (inout ServerConfig) -> Void = { _ in }) {
        let clock = clock
        store = Store(name: "test-store", nowMs: { clock.wallMs })
        if fixtureS {
            try! store.defineBucket("users", config: [
                "key": "id",
                "schema": [
                    "id": ["type": "string", "generated": "uuid"], "name": ["type": "string", "required": true],
                    "email": ["type": "string"], "role": ["type": "string", "default": "user"], "age": ["type": "number"],
                ],
            ])
            try! store.defineBucket("products", config: [
                "key": "id",
                "schema": [
                    "id": ["type": "string", "generated": "uuid"], "title": ["type": "string", "required": true],
                    "price": ["type": "number", "default": 0], "stock": ["type": "number", "default": 0],
                ],
            ])
        }
        if fixtureQ {
            try! store.defineQuery("all-users", config: ["bucket": "users"])
            try! store.defineQuery("users-by-role", config: ["bucket": "users", "filter": ["role": "{{ params.role }}"]])
            try! store.defineQuery("user-count", config: ["bucket": "users", "aggregate": ["function": "count"]])
        }
        var config = ServerConfig(store: store)
        config.host = "127.0.0.1"
        configure(&config)
        core = ProtocolCore(config: config, clock: ServerClock(wallMs: { clock.wallMs }, monotonicMs: { clock.monotonicMs }))
        core.attach(transport)
    }

    /// A core over a ready-made config (its own store and clock are then the config's).
    init(config: ServerConfig) {
        store = config.store
        let clock = clock
        core = ProtocolCore(config: config, clock: ServerClock(wallMs: { clock.wallMs }, monotonicMs: { clock.monotonicMs }))
        core.attach(transport)
    }

    func connect(_ address: String = "127.0.0.1") -> Client {
        let id = ConnectionID(index: nextIndex, generation: 0)
        nextIndex += 1
        core.connectionOpened(id, remoteAddress: address)
        return Client(id: id, harness: self)
    }
}

/// One simulated connection: sends raw text, reads back what the server wrote.
final class Client {
    let id: ConnectionID
    let harness: Harness
    private var cursor = 0
    private var unread: [String] = []

    init(id: ConnectionID, harness: Harness) {
        self.id = id
        self.harness = harness
    }

    var all: [String] { harness.transport.frames[id] ?? [] }
    var closed: (code: UInt16, reason: String)? { harness.transport.closes[id] }

    private func pull() {
        let frames = all
        unread.append(contentsOf: frames[cursor...])
        cursor = frames.count
    }

    /// Frames written and not yet consumed, oldest first (consumes them).
    func take() -> [String] {
        pull()
        defer { unread = [] }
        return unread
    }

    func takeJSON() -> [JSON] { take().map { try! JSON.parse($0) } }

    /// Unconsumed push frames (consumes every unconsumed frame).
    func pushes() -> [JSON] { takeJSON().filter { $0["type"] == "push" } }

    func sendRaw(_ text: String) { harness.core.textReceived(id, Array(text.utf8)) }

    /// Sends a request and returns its answer as text, leaving other frames (pushes) unread.
    @discardableResult
    func call(_ request: JSON) -> String {
        sendRaw(request.jsonString)
        return answer(id: request["id"] ?? .null)
    }

    /// Consumes and returns the first unread non-push frame with this id.
    func answer(id wanted: JSON) -> String {
        pull()
        guard let i = unread.firstIndex(where: {
            let j = try? JSON.parse($0)
            return j?["id"] == wanted && j?["type"] != "push"
        }) else { return "<no answer>" }
        return unread.remove(at: i)
    }

    /// Sends a request, returns the parsed answer.
    func ask(_ request: JSON) -> JSON { (try? JSON.parse(call(request))) ?? .null }

    /// `data` of a successful answer (or `.null`).
    func data(_ request: JSON) -> JSON { ask(request)["data"] ?? .null }

    func disconnect() { harness.core.connectionClosed(id) }
}
