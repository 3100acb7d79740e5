import FuzzKit
import NoexJSON
import NoexLoop
import NoexServer

/// Fuzzes the request path: envelope, auth, rate limit, every operation, subscriptions and
/// pushes, through `ProtocolCore`'s transport-event API over three simulated connections.
///
/// The input is lines. An optional first line `open` picks the server without auth (else:
/// auth, permissions and a rate limit). Then each line is one event:
///   `0…` `1…` `2…`  the rest of the line is a text message on connection 0, 1 or 2
///   `x<n>`  connection n closes        `h<n>`  a heartbeat ping is due on n
///   `d<n>`  client n reads its buffer   `t<ms>` time passes       `s`  the sweep timer fires
///   `r<user>` / `R<role>`  an operator revokes sessions          `q`  the server begins stopping
/// Any other line is a text message on connection 0. A connection opens on first use (again
/// after it closed).
///
/// Invariants: every frame the server writes is a JSON object of a known type; every text
/// message gets exactly one answer (none for a pong) with the request's id (0 when the
/// envelope is invalid); answers have the documented keys; once every connection has closed,
/// no connection, store subscription or rules subscription is left behind. (`INTERNAL_ERROR`
/// is not an invariant breach: the original answers some library errors with it.)
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var lines = fuzzInput(data, size).split(separator: 10, omittingEmptySubsequences: true)
    var file = FuzzConfig.authFile
    if let first = lines.first, first.elementsEqual("open".utf8) {
        file = FuzzConfig.openFile
        lines.removeFirst()
    }
    let session = FuzzSession(file)
    for line in lines { session.run(line) }
    session.finish()
    return 0
}

final class FuzzSession {
    let clock = FuzzClock()
    let transport: RecordingTransport
    let core: ProtocolCore
    let config: ServerConfig
    private var slots: [ConnectionID?] = [nil, nil, nil]
    private var generations: [UInt32] = [0, 0, 0]
    private let baseStoreSubscriptions: Int
    private let baseRulesSubscribers: Int

    init(_ file: FileConfig) {
        config = FuzzConfig.make(file, clock: clock)
        transport = RecordingTransport(hardLimit: config.backpressure.maxBufferedBytes)
        let clock = clock
        core = ProtocolCore(config: config, clock: ServerClock(wallMs: { clock.wallMs }, monotonicMs: { clock.monotonicMs }))
        core.attach(transport)
        baseStoreSubscriptions = config.store.subscriptionCount
        baseRulesSubscribers = config.rules?.subscriberCount ?? 0
    }

    func run(_ line: ArraySlice<UInt8>) {
        let op = line[line.startIndex]
        let rest = line.dropFirst()
        let slot = rest.first.flatMap { $0 >= 48 && $0 <= 50 ? Int($0 - 48) : nil }
        switch (op, slot) {
        case (48...50, _): text(Int(op - 48), Array(rest))
        case (UInt8(ascii: "x"), let n?): if let id = slots[n] { core.connectionClosed(id); slots[n] = nil }
        case (UInt8(ascii: "h"), let n?): core.heartbeatDue(connection(n))
        case (UInt8(ascii: "d"), let n?): if let id = slots[n] { transport.drain(id) }
        case (UInt8(ascii: "t"), _): clock.advance(Int64(String(decoding: rest.prefix(9), as: UTF8.self)) ?? 1000)
        case (UInt8(ascii: "s"), _): core.sweep()
        case (UInt8(ascii: "r"), _): core.revokeSessions(userId: String(decoding: rest, as: UTF8.self))
        case (UInt8(ascii: "R"), _): core.revokeSessions(role: String(decoding: rest, as: UTF8.self))
        case (UInt8(ascii: "q"), _): core.stopping(gracePeriodMs: 1000)
        default: text(0, Array(line))
        }
        reportCloses()
    }

    /// The connection in slot n, opened (with its welcome checked) if it is not open.
    private func connection(_ n: Int) -> ConnectionID {
        if let id = slots[n] { return id }
        let id = ConnectionID(index: UInt32(n), generation: generations[n])
        generations[n] += 1
        slots[n] = id
        let before = transport.frames[id]?.count ?? 0
        core.connectionOpened(id, remoteAddress: "127.0.0.1")
        let sent = transport.frames[id]?.dropFirst(before) ?? []
        if transport.closing.contains(id) {
            invariant(sent.isEmpty, "a refused connection got frames")
        } else {
            invariant(sent.count == 1 && Self.message(sent.first!)["type"] == "welcome", "no single welcome on open")
        }
        return id
    }

    /// The transport closes what the core asked it to close, then tells the core.
    private func reportCloses() {
        for id in transport.closing {
            core.connectionClosed(id)
            if let n = slots.firstIndex(of: id) { slots[n] = nil }
        }
        transport.closing.removeAll()
    }

    private func text(_ n: Int, _ bytes: [UInt8]) {
        Self.checkScanner(bytes)
        let id = connection(n)
        reportCloses()
        guard slots[n] == id else { return }
        let expected = Self.expectedAnswerID(bytes)
        let before = transport.frames[id]?.count ?? 0
        core.textReceived(id, bytes)
        let sent = transport.frames[id]?.dropFirst(before) ?? []
        var answers: [JSON] = []
        for frame in sent {
            let m = Self.message(frame)
            if m["type"] == "result" || m["type"] == "error" { answers.append(m) }
        }
        let request = String(decoding: bytes.prefix(200), as: UTF8.self)
        switch expected {
        case .none:
            invariant(answers.isEmpty, "a pong was answered: \(answers) for \(request)")
        case .some(let wanted):
            invariant(answers.count == 1, "\(answers.count) answers to \(request): \(answers)")
            invariant(answers[0]["id"]?.numberValue == wanted, "answer id \(answers[0]["id"] ?? .null), wanted \(wanted), for \(request)")
            Self.checkAnswer(answers[0], request)
        }
    }

    /// The request path reads flat frames with `JSON.scanFlatObject` and the rest with the
    /// parser: whenever the scanner answers, its object must be the parser's, member for member.
    /// The request itself is read without a tree (`Envelope.classify(bytes:)`): it must be
    /// classified as the parser's object is, and carry that object's members, in its order.
    static func checkScanner(_ bytes: [UInt8]) {
        checkEnvelope(bytes)
        guard let scanned = bytes.withUnsafeBytes({ JSON.scanFlatObject($0) }) else { return }
        let parsed = try? JSON.parse(bytes)
        invariant(parsed.map { JSON.object(scanned).isIdentical(to: $0) } == true,
                  "scanner \(JSON.object(scanned)) vs parser \(String(describing: parsed)) for \(String(decoding: bytes.prefix(200), as: UTF8.self))")
    }

    static func checkEnvelope(_ bytes: [UInt8]) {
        let parsed = try? JSON.parse(bytes)
        let text = String(decoding: bytes.prefix(200), as: UTF8.self)
        switch (Envelope.classify(bytes: bytes), Envelope.classify(parsed)) {
        case (.request(let a), .request(let b)):
            guard case .object(let object)? = parsed else { return invariant(false, "a request from a non-object: \(text)") }
            invariant(a.id.isIdentical(to: b.id) && a.type == b.type, "request id/type differ for \(text)")
            invariant(JSON.object(a.fields).isIdentical(to: .object(object)) && JSON.object(b.fields).isIdentical(to: .object(object)),
                      "request members \(JSON.object(a.fields)) vs parser \(JSON.object(object)) for \(text)")
            for (k, v) in object {
                invariant(a[k]?.isIdentical(to: v) == true && b[k]?.isIdentical(to: v) == true, "member \(k) differs for \(text)")
            }
        case (.pong(let x), .pong(let y)): invariant(x.bitPattern == y.bitPattern, "pong timestamps differ for \(text)")
        case (.invalid(let x), .invalid(let y)): invariant(x == y, "envelope errors \(x) vs \(y) for \(text)")
        case (let x, let y): invariant(false, "classified \(x) from the bytes, \(y) from the parser: \(text)")
        }
    }

    /// What the envelope rules (protocol.md) say the answer's id must be: nil for a valid pong
    /// (no answer), 0 for an envelope error, else the request's numeric id.
    static func expectedAnswerID(_ bytes: [UInt8]) -> Double? {
        guard case .object(let o)? = try? JSON.parse(bytes),
              case .string(let type)? = o["type"], !type.isEmpty else { return 0 }
        if type == "pong" {
            guard let t = o["timestamp"]?.numberValue, t.isFinite else { return 0 }
            return nil
        }
        guard let id = o["id"]?.numberValue, id.isFinite else { return 0 }
        return id
    }

    static let frameTypes: Set<String> = ["welcome", "result", "error", "push", "ping", "system"]

    /// Parses a frame the server wrote: always a JSON object with a known `type`.
    static func message(_ frame: [UInt8]) -> JSON {
        let parsed = try? JSON.parse(frame, limits: JSONLimits(maxDepth: 4096))
        guard let parsed, case .object(let o) = parsed, case .string(let type)? = o["type"], frameTypes.contains(type) else {
            invariant(false, "server wrote \(String(decoding: frame.prefix(300), as: UTF8.self))")
            return .null
        }
        return parsed
    }

    static func checkAnswer(_ answer: JSON, _ request: String) {
        guard case .object(let o) = answer else { return }
        if o["type"] == "result" {
            invariant(Set(o.keys) == ["id", "type", "data"], "result keys \(o.keys) for \(request)")
            return
        }
        guard case .string(let code)? = o["code"], !code.isEmpty,
              code.utf8.allSatisfy({ ($0 >= 65 && $0 <= 90) || $0 == 95 }) else {
            invariant(false, "error code \(o["code"] ?? .null) for \(request)")
            return
        }
        guard case .string(let message)? = o["message"], !message.isEmpty else {
            invariant(false, "error without message for \(request)")
            return
        }
        invariant(Set(o.keys).isSubset(of: ["id", "type", "code", "message", "details"]), "error keys \(o.keys)")
    }

    /// Every connection closes; nothing may outlive them.
    func finish() {
        for case let id? in slots { core.connectionClosed(id) }
        slots = [nil, nil, nil]
        invariant(core.connectionCount == 0, "\(core.connectionCount) connections left")
        invariant(config.store.subscriptionCount == baseStoreSubscriptions,
                  "\(config.store.subscriptionCount - baseStoreSubscriptions) store subscriptions outlived their connections")
        invariant((config.rules?.subscriberCount ?? 0) == baseRulesSubscribers,
                  "rules subscriptions outlived their connections")
    }
}
