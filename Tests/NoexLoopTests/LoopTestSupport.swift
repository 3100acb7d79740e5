// Loop-test support: a real server on a private uv_loop_t running on its own thread, and a
// minimal blocking-socket WebSocket client driven from the test's thread.
import CUV
import Glibc
import Testing

@testable import NoexLoop

/// Records what the server reported; echoes messages back. Lives on the server's thread;
/// the test reads it only after joining that thread.
final class Recorder: WebSocketServerDelegate {
    var opened: [ConnectionID] = []
    var infos: [ConnectionInfo] = []
    var closed: [(ConnectionID, UInt16)] = []
    var heartbeats = 0
    var writabilityChanges: [Bool] = []
    var stopped = false
    /// Text messages starting with "flood" make the server push this many 64 KiB event pushes.
    var floodCount = 0
    var floodResults: [SendResult] = []
    var acceptErrorReports: [(name: String, count: Int)] = []
    /// `peakBufferedBytes` right after each "push" command's push was handed over.
    var peaksAfterPush: [Int] = []

    func onOpen(_ server: WebSocketServer, _ id: ConnectionID, remoteAddress: String) {
        opened.append(id)
        if let info = server.info(id) { infos.append(info) }
    }

    func onText(_ server: WebSocketServer, _ id: ConnectionID, _ message: UnsafeRawBufferPointer) {
        let bytes = Array(message)
        if bytes.starts(with: Array("flood".utf8)) {
            // "flood" pushes events; "floodresponses" queues responses (never dropped).
            let kind: SendKind = bytes == Array("floodresponses".utf8) ? .response : .push
            let chunk = [UInt8](repeating: 0x61, count: 64 << 10)
            for _ in 0..<floodCount { floodResults.append(server.send(id, text: chunk, kind: kind)) }
            return
        }
        if bytes == Array("push".utf8) {
            // One 1000-byte event push to an otherwise idle connection.
            server.send(id, text: [UInt8](repeating: 0x62, count: 1000), kind: .push)
            peaksAfterPush.append(server.peakBufferedBytes(id) ?? -1)
            return
        }
        if bytes == Array("coalesceflood".utf8) {
            // floodCount coalescing pushes under one key, about 4 KiB each, payload i repeated
            // letter i % 26 with its index in the first 4 bytes.
            for i in 0..<floodCount {
                var payload = [UInt8](repeating: UInt8(0x61 + i % 26), count: 4000 + i % 97)
                withUnsafeBytes(of: UInt32(i).bigEndian) { payload.replaceSubrange(0..<4, with: $0) }
                floodResults.append(server.send(id, text: payload, kind: .coalescingPush(key: 7)))
            }
            return
        }
        if bytes == Array("smallflood".utf8) {
            // floodCount event pushes of about 4 KiB, each of its own size and content: more
            // than the kernel takes while the client does not read, so one is written only in
            // part and the rest are queued behind it.
            for i in 0..<floodCount {
                let payload = [UInt8](repeating: UInt8(0x61 + i % 26), count: 4000 + i % 97)
                floodResults.append(server.send(id, text: payload, kind: .push))
            }
            peaksAfterPush.append(server.peakBufferedBytes(id) ?? -1)
            return
        }
        if bytes == Array("partsflood".utf8) {
            // As "smallflood", each push handed over in three parts (FrameParts) split at
            // places that move with i, bytes varying along the payload.
            for i in 0..<floodCount {
                let payload = Self.partsPayload(i)
                let a = 1 + i % 61, b = payload.count - i % 3
                floodResults.append(payload.withUnsafeBytes { p in
                    server.send(id, text: FrameParts(head: UnsafeRawBufferPointer(rebasing: p[0..<a]),
                                                     body: UnsafeRawBufferPointer(rebasing: p[a..<b]),
                                                     tail: UnsafeRawBufferPointer(rebasing: p[b...])), kind: .push)
                })
            }
            peaksAfterPush.append(server.peakBufferedBytes(id) ?? -1)
            return
        }
        if bytes == Array("pong".utf8) { server.pongReceived(id); return }
        // The borrowed message itself, as the echo server sends it.
        server.send(id, text: message)
    }

    /// Push i of "partsflood": about 4 KiB, each byte depending on its position and on i.
    static func partsPayload(_ i: Int) -> [UInt8] {
        (0..<(4000 + i % 97)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
    }

    func onBinary(_ server: WebSocketServer, _ id: ConnectionID, _ bytes: UnsafeRawBufferPointer) {
        server.send(id, binary: bytes)
    }

    func onClose(_ server: WebSocketServer, _ id: ConnectionID, code: UInt16) {
        closed.append((id, code))
    }

    func onHeartbeat(_ server: WebSocketServer, _ id: ConnectionID) {
        heartbeats += 1
        server.send(id, text: "ping")
    }

    func onWritabilityChanged(_ server: WebSocketServer, _ id: ConnectionID, writable: Bool) {
        writabilityChanges.append(writable)
    }

    func onStopping(_ server: WebSocketServer, gracePeriodMs: UInt64) {
        for id in server.openConnections { server.send(id, text: "stopping \(gracePeriodMs)") }
    }

    func onStopped(_ server: WebSocketServer) { stopped = true }

    func onAcceptError(_ server: WebSocketServer, _ error: UVError, count: Int) {
        acceptErrorReports.append((error.name, count))
    }
}

/// A server on its own loop and thread. Only `port`, `stop()` and `join()` are used while the
/// thread runs; everything else is read after `join()` (pthread_join orders the accesses).
final class ServerThread: @unchecked Sendable {
    let loop: UnsafeMutablePointer<uv_loop_t>
    let server: WebSocketServer
    let recorder = Recorder()
    let port: Int
    private var thread = pthread_t()
    private var joined = false
    private(set) var loopCloseResult: Int32 = -1

    init(_ config: WebSocketServerConfig) throws {
        loop = .allocate(capacity: 1)
        precondition(uv_loop_init(loop) == 0)
        server = WebSocketServer(loop: loop, config: config)
        server.delegate = recorder
        try server.start()
        port = server.port
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { raw in
            let me = Unmanaged<ServerThread>.fromOpaque(raw!).takeRetainedValue()
            me.server.run()
            return nil
        }, context)
    }

    /// Asks the server to stop (thread-safe).
    func stop() { server.stopHandle?.stop() }

    /// Waits for the loop thread to end and closes the loop; returns `uv_loop_close`'s result.
    @discardableResult
    func join() -> Int32 {
        guard !joined else { return loopCloseResult }
        joined = true
        pthread_join(thread, nil)
        loopCloseResult = uv_loop_close(loop)
        return loopCloseResult
    }

    deinit {
        if !joined {
            stop()
            join()
        }
        if loopCloseResult == 0 { loop.deallocate() }
    }
}

/// A blocking WebSocket client for tests (5 s receive timeout so nothing hangs).
final class TestClient {
    let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var sawEOF = false

    init?(port: Int) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &addr) {
            connect(fd, UnsafeRawPointer($0).assumingMemoryBound(to: sockaddr.self), socklen_t(MemoryLayout<sockaddr_in>.size))
        }
        if rc != 0 {
            close(fd)
            return nil
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    /// Reads more bytes into the buffer; false on EOF, error or timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { sawEOF = true }
        guard n > 0 else { return false }
        buffer += chunk[0..<n]
        return true
    }

    /// The HTTP response head (up to the blank line), or nil.
    func readResponseHead() -> String? {
        while true {
            if let r = buffer.firstRange(of: [13, 10, 13, 10]) {
                let head = String(decoding: buffer[..<r.lowerBound], as: UTF8.self)
                buffer.removeSubrange(..<r.upperBound)
                return head
            }
            if !fill() { return nil }
        }
    }

    /// Everything until the server closes the connection (nil on timeout).
    func readToEOF() -> [UInt8]? {
        while fill() {}
        guard sawEOF else { return nil }
        defer { buffer = [] }
        return buffer
    }

    /// Waits `afterMs` without reading (so the server's queue stays full), then reads until
    /// EOF or a reset; true when the connection ended.
    func readToEOFOrReset(afterMs: UInt32) -> Bool {
        usleep(afterMs * 1000)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    /// Whether the server closes the connection with no more bytes.
    func expectEOF() -> Bool { readToEOF() == [] }

    /// Sends a valid upgrade request; true when the answer is a correct 101.
    func handshake(path: String = "/", extra: [UInt8] = []) -> Bool {
        send(Array(("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8) + extra)
        guard let head = readResponseHead() else { return false }
        return head.hasPrefix("HTTP/1.1 101 ") && head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    func sendFrame(opcode: UInt8, payload: [UInt8], fin: Bool = true, masked: Bool = true) {
        send(clientFrame(opcode: opcode, payload: payload, fin: fin, masked: masked))
    }

    /// Reads one server frame (which must be unmasked); nil on EOF or timeout.
    func readFrame() -> (opcode: UInt8, payload: [UInt8])? {
        while true {
            if buffer.count >= 2 {
                #expect(buffer[1] & 0x80 == 0, "server frames are never masked")
                var len = Int(buffer[1] & 0x7F)
                var header = 2
                if len == 126, buffer.count >= 4 {
                    len = Int(buffer[2]) << 8 | Int(buffer[3])
                    header = 4
                } else if len == 127, buffer.count >= 10 {
                    len = buffer[2..<10].reduce(0) { $0 << 8 | Int($1) }
                    header = 10
                }
                if len < 126 || header > 2, buffer.count >= header + len {
                    let frame = (buffer[0] & 0x0F, Array(buffer[header..<header + len]))
                    buffer.removeSubrange(..<(header + len))
                    return frame
                }
            }
            if !fill() { return nil }
        }
    }

    /// Reads a close frame; returns its code (nil if the frame is not a close or has no code).
    func readCloseCode() -> UInt16? {
        guard let frame = readFrame(), frame.opcode == 8, frame.payload.count >= 2 else { return nil }
        return UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1])
    }
}

/// A config for loop tests: 127.0.0.1, port 0, fast sweep and short deadlines.
func testConfig(
    maxMessageBytes: Int = 1 << 20, rejectBinary: Bool = false, heartbeat: HeartbeatConfig? = nil,
    handshakeTimeoutMs: UInt64 = 2_000, closingTimeoutMs: UInt64 = 1_000,
    writeLimits: WriteQueueLimits = .init(), path: String = "/", slowClientTimeoutMs: UInt64? = 30_000,
    stop: StopOptions = .init()
) -> WebSocketServerConfig {
    WebSocketServerConfig(
        host: "127.0.0.1", port: 0,
        upgrade: HTTPUpgradeConfig(path: path),
        decoder: WebSocketDecoderConfig(maxMessageBytes: maxMessageBytes, rejectBinary: rejectBinary),
        writeLimits: writeLimits,
        heartbeat: heartbeat, handshakeTimeoutMs: handshakeTimeoutMs, closingTimeoutMs: closingTimeoutMs,
        slowClientTimeoutMs: slowClientTimeoutMs, sweepIntervalMs: 20, stop: stop)
}
