import Dispatch
import Foundation
import NoexJSON

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The fuzz tests' generator: `SeededRandom` with the helpers they draw with, so a fuzz run can
/// be replayed from its seed.
struct FuzzRNG: RandomNumberGenerator {
    private var random: SeededRandom

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func next() -> UInt64 { random.next() }

    /// The seed for a run: `NOEX_FUZZ_SEED` (decimal or 0x-hex) when set, else a fixed default so
    /// CI is deterministic. Each test mixes in its own salt so tests do not share streams.
    static func seed(salt: UInt64) -> UInt64 {
        var base: UInt64 = 0x5EED_2026_0000_0004
        if let text = ProcessInfo.processInfo.environment["NOEX_FUZZ_SEED"] {
            let parsed = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
            if let parsed { base = parsed }
        }
        return base ^ (salt &* 0x9E37_79B9_7F4A_7C15)
    }

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &self) } }
}

/// A wall-clock budget: fuzz loops stop generating new cases once it is spent.
struct FuzzBudget {
    private let end: UInt64
    init(seconds: Double) { end = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9) }
    var spent: Bool { DispatchTime.now().uptimeNanoseconds >= end }
}

/// RFC 6455 client frames built byte by byte, including the malformed ones a real client
/// library refuses to produce.
enum FuzzFrame {
    static let defaultMask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]

    /// `lengthForm` 126/127 forces the 16/64-bit length encoding; `declaredLength` overrides
    /// the length written in the header (the payload bytes sent stay as given).
    static func build(fin: Bool = true, rsv: UInt8 = 0, opcode: UInt8, payload: [UInt8], masked: Bool = true,
                      lengthForm: Int? = nil, declaredLength: UInt64? = nil, mask: [UInt8] = defaultMask) -> [UInt8] {
        var f: [UInt8] = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0F)]
        let len = declaredLength ?? UInt64(payload.count)
        let maskBit: UInt8 = masked ? 0x80 : 0
        let form = lengthForm ?? (len < 126 ? 0 : (len <= 0xFFFF ? 126 : 127))
        switch form {
        case 126:
            f.append(maskBit | 126)
            f += [UInt8((len >> 8) & 0xFF), UInt8(len & 0xFF)]
        case 127:
            f.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { f.append(UInt8((len >> UInt64(shift)) & 0xFF)) }
        default:
            f.append(maskBit | UInt8(len & 0x7F))
        }
        if masked {
            f += mask
            for (i, b) in payload.enumerated() { f.append(b ^ mask[i & 3]) }
        } else {
            f += payload
        }
        return f
    }

    static func text(_ s: String) -> [UInt8] { build(opcode: 0x1, payload: Array(s.utf8)) }
}

/// send(2) without SIGPIPE (a name the method `FuzzSocket.send` does not shadow).
private func rawSend(_ fd: Int32, _ base: UnsafeRawPointer?, _ count: Int) -> Int {
    send(fd, base, count, Int32(MSG_NOSIGNAL))
}

/// A raw TCP client for fuzzing: sends arbitrary bytes, parses the server's (unmasked) frames,
/// and bounds every wait with poll(2) so a stalled server fails a test instead of hanging it.
final class FuzzSocket {
    enum Event: Equatable {
        case text(String)
        case binary([UInt8])
        case ping([UInt8])
        case pong([UInt8])
        case close(code: UInt16?, reason: [UInt8])
        case timeout
        case eof
    }

    static let handshakeRequest =
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

    private let fd: Int32
    private var buffer: [UInt8] = []
    private var sawEOF = false

    init?(port: Int) {
        guard let fd = connectLoopback(port: port) else { return nil }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Makes the coming close a reset (RST) instead of an orderly FIN.
    func resetOnClose() {
        var l = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
    }

    /// Writes everything (false once the peer is gone).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { rawSend(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    func sendText(_ text: String) { send(FuzzFrame.text(text)) }

    /// Reads what is available within `timeoutMs`: true if bytes arrived.
    private func fill(timeoutMs: Int) -> Bool {
        if sawEOF { return false }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let r = poll(&p, 1, Int32(max(0, timeoutMs)))
        guard r > 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
        if n <= 0 {
            sawEOF = true
            return false
        }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    private static func nowMs() -> Int { Int(DispatchTime.now().uptimeNanoseconds / 1_000_000) }

    /// Reads an HTTP response head (up to CRLFCRLF); returns its status line, or nil when none
    /// arrived in time (`eof` then tells whether the server hung up). Bytes after the head stay
    /// buffered as frames.
    func readHead(timeoutMs: Int) -> String? {
        let deadline = Self.nowMs() + timeoutMs
        while true {
            if buffer.count >= 4 {
                for i in 0...(buffer.count - 4)
                where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
                    let head = String(decoding: buffer[0..<i], as: UTF8.self)
                    buffer.removeFirst(i + 4)
                    return String(head.prefix { $0 != "\r" })
                }
            }
            let left = deadline - Self.nowMs()
            if left <= 0 || !fill(timeoutMs: left) {
                if left > 0 && !sawEOF { continue }
                return buffer.isEmpty ? nil : String(decoding: buffer.prefix(64), as: UTF8.self)
            }
        }
    }

    var eof: Bool { sawEOF }

    /// Performs the upgrade; true on `101`.
    func handshake(timeoutMs: Int = 5000) -> Bool {
        send(Self.handshakeRequest)
        return readHead(timeoutMs: timeoutMs)?.hasPrefix("HTTP/1.1 101") == true
    }

    /// The next frame the server sent, waiting at most `timeoutMs` in total.
    func next(timeoutMs: Int) -> Event {
        let deadline = Self.nowMs() + timeoutMs
        while true {
            if let frame = parse() { return frame }
            let left = deadline - Self.nowMs()
            if left <= 0 { return sawEOF ? .eof : .timeout }
            if !fill(timeoutMs: left) {
                if sawEOF { return .eof }
            }
        }
    }

    /// The next text frame that is not a push, ping or system message (the answer to a request);
    /// anything else (close, eof, timeout) is returned as is.
    func nextAnswer(timeoutMs: Int = 5000, onPush: (JSON) -> Void = { _ in }) -> Event {
        let deadline = Self.nowMs() + timeoutMs
        while true {
            let e = next(timeoutMs: max(0, deadline - Self.nowMs()))
            switch e {
            case .text(let s):
                if let j = try? JSON.parse(s, limits: FuzzJSON.clientLimits), let t = j["type"]?.stringValue,
                   t == "push" || t == "ping" || t == "system" || t == "welcome" {
                    if t == "push" { onPush(j) }
                    continue
                }
                return e
            case .ping, .pong: continue
            default: return e
            }
        }
    }

    private func parse() -> Event? {
        guard let (opcode, payload) = takeServerFrame(from: &buffer) else { return nil }
        switch opcode {
        case 0x1: return .text(String(decoding: payload, as: UTF8.self))
        case 0x2: return .binary(payload)
        case 0x8:
            let code = payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil
            return .close(code: code, reason: payload.count > 2 ? Array(payload[2...]) : [])
        case 0x9: return .ping(payload)
        case 0xA: return .pong(payload)
        default: return .binary(payload)
        }
    }
}

enum FuzzJSON {
    /// The test client parses answers with a deeper limit than the server's inbound one: an
    /// answer legitimately nests one or two levels deeper than the request that stored it.
    static let clientLimits = JSONLimits(maxDepth: 4096)

    static func parse(_ s: String) -> JSON? { try? JSON.parse(s, limits: clientLimits) }

    /// The error codes of docs/protocol/envelope.md.
    static let knownCodes: Set<String> = [
        "PARSE_ERROR", "INVALID_REQUEST", "UNKNOWN_OPERATION", "VALIDATION_ERROR", "NOT_FOUND", "ALREADY_EXISTS",
        "CONFLICT", "UNAUTHORIZED", "FORBIDDEN", "RATE_LIMITED", "BACKPRESSURE", "INTERNAL_ERROR",
        "BUCKET_NOT_DEFINED", "QUERY_NOT_DEFINED", "RULES_NOT_AVAILABLE", "SESSION_REVOKED",
    ]

    /// A canonical text for a record key (JS-style number formatting makes 1 and 1.0 agree).
    static func canon(_ key: JSON) -> String { key.jsonString }

    /// Checks one answer's shape (docs/protocol/envelope.md); returns a problem description or nil.
    static func shapeProblem(_ answer: JSON) -> String? {
        guard let o = answer.objectValue else { return "answer is not an object" }
        guard o["id"]?.isNumber == true else { return "answer has no numeric id" }
        switch o["type"]?.stringValue {
        case "result":
            guard o.count == 3, o.contains("data") else { return "result keys are \(o.keys)" }
        case "error":
            guard let code = o["code"]?.stringValue, knownCodes.contains(code) else { return "unknown error code \(o["code"] ?? .null)" }
            guard let m = o["message"]?.stringValue, !m.isEmpty else { return "error without message" }
            guard Set(o.keys).isSubset(of: ["id", "type", "code", "message", "details"]) else { return "error keys are \(o.keys)" }
        default:
            return "answer type is \(o["type"] ?? .null)"
        }
        return nil
    }
}
