import NoexLoop

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A small blocking RFC 6455 client for end-to-end tests: one TCP socket, masked frames out,
/// frames in, every read bounded by a receive timeout.
final class WebSocketTestClient {
    enum Frame: Equatable {
        case text(String)
        case binary([UInt8])
        case close(code: UInt16?, reason: String)
        case timeout
        case eof
    }

    let fd: Int32
    private var buffer: [UInt8] = []
    /// The HTTP status line of the handshake answer (empty if the server sent nothing).
    private(set) var statusLine = ""
    /// The whole handshake answer head (status line and headers, without the blank line).
    private(set) var responseHead = ""
    /// Inflates the server's compressed messages (permessage-deflate), created at the first one;
    /// the client always keeps its window, as RFC 7692 allows.
    private var inflater: ZlibInflater?
    /// Server messages that arrived compressed (RSV1 set).
    private(set) var compressedFramesReceived = 0

    /// Connects and performs the upgrade; check `statusLine` for the outcome. `extensions` is
    /// sent as `Sec-WebSocket-Extensions` (e.g. `permessage-deflate`).
    init?(port: Int, path: String = "/", origin: String? = nil, extensions: String? = nil, timeoutMs: Int = 3000) {
        guard let fd = connectLoopback(port: port) else { return nil }
        self.fd = fd
        setTimeout(ms: timeoutMs)
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        if let origin { request += "Origin: \(origin)\r\n" }
        if let extensions { request += "Sec-WebSocket-Extensions: \(extensions)\r\n" }
        request += "\r\n"
        writeAll(Array(request.utf8))
        while true {
            if let end = headerEnd() {
                let head = String(decoding: buffer[0..<end], as: UTF8.self)
                statusLine = String(head.prefix { $0 != "\r\n" })  // "\r\n" is one Character
                responseHead = head
                buffer.removeFirst(end + 4)
                break
            }
            guard fill() else { break }
        }
    }

    deinit { close(fd) }

    var upgraded: Bool { statusLine.hasPrefix("HTTP/1.1 101") }

    /// The server's `Sec-WebSocket-Extensions` answer, nil when it sent none.
    var extensionsAnswer: String? {
        let prefix = "sec-websocket-extensions: "
        return responseHead.split(separator: "\r\n").first { $0.lowercased().hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    func setTimeout(ms: Int) {
        var tv = timeval(tv_sec: ms / 1000, tv_usec: Int32((ms % 1000) * 1000).toSuseconds())
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    private func headerEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// Reads more bytes; false on EOF, error or timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    private func writeAll(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Several text messages in one socket write, so the server reads them together.
    func sendTextsTogether(_ texts: [String]) {
        writeAll(texts.flatMap { Self.maskedFrame(opcode: 0x1, Array($0.utf8)) })
    }

    /// One complete masked client frame (FIN set).
    /// `compressed` sets RSV1: the payload is a permessage-deflate message.
    static func maskedFrame(opcode: UInt8, _ payload: [UInt8], fin: Bool = true, compressed: Bool = false) -> [UInt8] {
        var f: [UInt8] = [(fin ? 0x80 : 0) | (compressed ? 0x40 : 0) | opcode]
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        if payload.count < 126 {
            f.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            f.append(0x80 | 126)
            f += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            f.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { f.append(UInt8((payload.count >> shift) & 0xFF)) }
        }
        f += mask
        for (i, b) in payload.enumerated() { f.append(b ^ mask[i & 3]) }
        return f
    }

    func sendFrame(opcode: UInt8, _ payload: [UInt8]) { writeAll(Self.maskedFrame(opcode: opcode, payload)) }

    /// Writes ready-made frames (blocks while the peer's TCP window is full). Only touches the
    /// socket, never the read buffer, so one other thread may call it while frames are read.
    func sendRaw(_ bytes: [UInt8]) { writeAll(bytes) }

    func sendText(_ text: String) { sendFrame(opcode: 0x1, Array(text.utf8)) }

    /// Sends `text` compressed (RSV1, raw DEFLATE without the sync-flush tail) with `deflater`.
    func sendCompressedText(_ text: String, with deflater: ZlibDeflater) {
        let packed = Array(text.utf8).withUnsafeBytes { deflater.compress($0) }
        writeAll(Self.maskedFrame(opcode: 0x1, packed, compressed: true))
    }

    /// Next data or close frame (control pings from the server are skipped).
    func next() -> Frame {
        while true {
            if let frame = parse() {
                if case .binary([]) = frame { continue }  // ping/pong control frame
                if case .close(let code, _) = frame {  // answer the closing handshake, as browsers do
                    sendFrame(opcode: 0x8, code.map { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } ?? [])
                }
                return frame
            }
            if !fill() { return errno == EAGAIN || errno == EWOULDBLOCK ? .timeout : .eof }
        }
    }

    /// Next text frame as text; nil on anything else.
    func nextText() -> String? {
        if case .text(let s) = next() { return s }
        return nil
    }

    /// Skips frames until a text frame satisfying `match` arrives (or nil).
    func nextText(where match: (String) -> Bool) -> String? {
        while true {
            switch next() {
            case .text(let s): if match(s) { return s }
            case .binary: continue
            default: return nil
            }
        }
    }

    private func parse() -> Frame? {
        let compressed = (buffer.first ?? 0) & 0x40 != 0
        guard var (opcode, payload) = takeServerFrame(from: &buffer) else { return nil }
        if compressed {
            compressedFramesReceived += 1
            if inflater == nil { inflater = ZlibInflater() }
            var out: [UInt8] = []
            let outcome = (payload + [0x00, 0x00, 0xFF, 0xFF]).withUnsafeBytes { inflater!.inflate($0, into: &out, limit: 1 << 30) }
            // Surfaces as an unexpected close in the test, without stopping the test process.
            guard outcome == .ok else { return .close(code: nil, reason: "client: the server's message does not inflate (\(outcome))") }
            payload = out
        }
        switch opcode {
        case 0x1: return .text(String(decoding: payload, as: UTF8.self))
        case 0x2: return payload.isEmpty ? .binary([0]) : .binary(payload)
        case 0x8:
            let code = payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil
            let reason = payload.count > 2 ? String(decoding: payload[2...], as: UTF8.self) : ""
            return .close(code: code, reason: reason)
        default: return .binary([])  // control frames: ignored by callers
        }
    }
}

extension Int32 {
    #if canImport(Glibc)
        func toSuseconds() -> Int { Int(self) }
    #else
        func toSuseconds() -> Int32 { self }
    #endif
}
