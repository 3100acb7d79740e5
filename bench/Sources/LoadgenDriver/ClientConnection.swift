import CUV
import LoadgenCore

/// One client WebSocket connection of the load generator, confined to the driver's loop.
///
/// States: `.idle` (not started) → `.connecting` (TCP) → `.handshaking` (upgrade request sent)
/// → `.open` → `.closed`. Requests are pipelined: the driver primes `inflight` requests and every
/// answer triggers the next one, so the number in flight stays constant (unless the connection is
/// not `continuous`: a fan-out subscriber sends one request, the writer sends when the driver says).
/// Frames produced while
/// handling one read are batched in `outgoing` and written once at the end of that read.
final class ClientConnection {
    enum State { case idle, connecting, handshaking, open, closed }

    unowned let driver: LoadDriver
    let index: Int
    private(set) var state: State = .idle
    private var tcp: UnsafeMutablePointer<uv_tcp_t>?
    private let handshake: ClientHandshake
    private var handshakeBytes: [UInt8] = []
    private var parser = ServerFrameParser()
    private var generator: any RequestGenerator
    private var random: FastRandom
    /// Frames not yet handed to the socket.
    private var outgoing: [UInt8] = []
    /// Requests appended to `outgoing` whose send time is stamped when they are flushed.
    private var unstamped = 0
    /// A `uv_write` is pending; further bytes wait in `outgoing` until it completes.
    private var writeInFlight = false
    /// Send times of requests awaiting their answer, oldest first.
    private var sendTimes: TimestampRing
    private var sequence: UInt64 = 0
    /// Requests sent when the load starts (`primeRequests`).
    private let inflight: Int
    /// Whether every answer is replaced by a new request (the closed-loop pipeline).
    private let continuous: Bool

    /// `ringCapacity`: most requests ever outstanding (at least `inflight`).
    init(
        driver: LoadDriver, index: Int, generator: any RequestGenerator, inflight: Int,
        continuous: Bool = true, ringCapacity: Int = 0, seed: UInt64
    ) {
        self.driver = driver
        self.index = index
        self.generator = generator
        self.inflight = inflight
        self.continuous = continuous
        random = FastRandom(seed: seed)
        handshake = ClientHandshake(random: &random)
        sendTimes = TimestampRing(capacity: max(inflight, ringCapacity))
        outgoing.reserveCapacity(4096)
    }

    private var stream: UnsafeMutablePointer<uv_stream_t>? {
        tcp.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: uv_stream_t.self) }
    }

    private var opaqueSelf: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// Starts the TCP connect to `address`. Failure is reported through the driver.
    func start(address: UnsafePointer<sockaddr>) {
        precondition(state == .idle, "a connection is started once")
        let handle = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        uv_tcp_init(driver.loop, handle)
        handle.pointee.data = opaqueSelf
        tcp = handle
        state = .connecting
        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        request.pointee.data = opaqueSelf
        let rc = uv_tcp_connect(request, handle, address, connectCallback)
        if rc < 0 {
            request.deallocate()
            fail("connect: \(uvError(rc))")
        }
    }

    fileprivate func connected(status: Int32) {
        guard state == .connecting else { return }
        guard status == 0 else {
            let hint = status == UV_ECONNREFUSED.rawValue
                ? "; nothing listens on \(driver.options.host) port \(driver.options.port): start the server first (bench/README.md shows how)"
                : ""
            return fail("connect: \(uvError(status))\(hint)")
        }
        guard let tcp, let stream else { return }
        uv_tcp_nodelay(tcp, 1)
        state = .handshaking
        let rc = uv_read_start(stream, allocCallback, readCallback)
        guard rc == 0 else { return fail("read_start: \(uvError(rc))") }
        outgoing.append(contentsOf: handshake.request(host: driver.options.host, port: driver.options.port, path: driver.options.path))
        flush()
    }

    /// Sends the first `inflight` requests; answers keep the pipeline full from then on.
    func primeRequests() {
        guard state == .open else { return }
        for _ in 0..<inflight { appendRequest() }
        flush()
    }

    /// Stops reading the socket for good (hostile mode): answers pile up at the server.
    func stopReading() {
        guard state == .open, let stream else { return }
        uv_read_stop(stream)
    }

    /// Sends one more request now (the fan-out writer's next insert).
    func sendOne() {
        guard state == .open else { return }
        appendRequest()
        flush()
    }

    fileprivate func received(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .handshaking:
            handshakeBytes.append(contentsOf: bytes)
            switch handshake.check(response: handshakeBytes) {
            case .incomplete: return
            case .rejected(let reason): return fail("handshake: \(reason)")
            case .accepted(let headerLength):
                state = .open
                let early = Array(handshakeBytes[headerLength...])
                handshakeBytes = []
                driver.connectionOpened(self)
                if !early.isEmpty { early.withUnsafeBytes { receivedFrames($0) } }
            }
        case .open:
            receivedFrames(bytes)
        case .idle, .connecting, .closed:
            return
        }
    }

    private func receivedFrames(_ bytes: UnsafeRawBufferPointer) {
        let now = uv_hrtime()
        let error = parser.feed(bytes) { event in self.handle(event, receivedAt: now) }
        if let error { return fail("protocol error: \(error)") }
        if state == .open { flush() }
    }

    private func handle(_ event: ServerEvent, receivedAt now: UInt64) {
        guard state == .open else { return }
        switch event {
        case .message(let opcode, let payload):
            let reply = generator.classify(opcode: opcode, payload: payload)
            switch reply {
            case .unsolicited: return
            case .push: return driver.recordPush(receivedAt: now)
            case .wrongAnswer, .setup(ok: false):
                if driver.firstUnexpected == nil {
                    driver.noteUnexpected(connection: index, generator.explainUnexpected(opcode: opcode, payload: payload))
                }
            case .answer, .setup: break
            }
            guard let sentAt = sendTimes.pop() else {
                // An answer with nothing outstanding: the server sent more than it was asked.
                driver.recordAnswer(latency: nil, correct: false)
                return
            }
            if case .setup(let ok) = reply {
                driver.setupAnswered(self, ok: ok)
            } else {
                driver.recordAnswer(latency: now &- sentAt, correct: reply == .answer)
            }
            if continuous && driver.keepsSending { appendRequest() }
        case .ping(let payload):
            MaskedFrameWriter.append(opcode: .pong, payload: payload, maskKey: random.nextMaskKey(), to: &outgoing)
        case .pong:
            break
        case .close(let code):
            // Answer the close as RFC 6455 §5.5.1 asks, then drop the connection.
            let body: [UInt8] = code.map { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } ?? []
            body.withUnsafeBytes {
                MaskedFrameWriter.append(opcode: .close, payload: $0, maskKey: random.nextMaskKey(), to: &outgoing)
            }
            flush()
            fail("server closed the WebSocket (code \(code.map(String.init) ?? "none"))")
        }
    }

    private func appendRequest() {
        let opcode = generator.opcode
        let key = random.nextMaskKey()
        generator.withRequest(sequence: sequence) { payload in
            MaskedFrameWriter.append(opcode: opcode, payload: payload, maskKey: key, to: &outgoing)
        }
        sequence &+= 1
        unstamped += 1
    }

    /// Hands `outgoing` to the socket: `uv_try_write` first (loopback usually takes it all),
    /// and a `uv_write` of a copy of the remainder otherwise.
    private func flush() {
        if unstamped > 0 {
            let now = uv_hrtime()
            for _ in 0..<unstamped {
                // The ring holds `inflight` stamps; the pipeline never exceeds that.
                if !sendTimes.push(now) { return fail("more requests in flight than --inflight") }
            }
            unstamped = 0
        }
        guard !writeInFlight, !outgoing.isEmpty, let stream, state == .open || state == .handshaking else { return }
        let total = outgoing.count
        let written = outgoing.withUnsafeMutableBytes { bytes -> Int32 in
            var buffer = uv_buf_init(bytes.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(bytes.count))
            return uv_try_write(stream, &buffer, 1)
        }
        if written == Int32(total) {
            outgoing.removeAll(keepingCapacity: true)
            return
        }
        if written < 0 && written != UV_EAGAIN.rawValue { return fail("write: \(uvError(written))") }
        let done = Int(max(written, 0))
        let request = WriteRequest.make(copying: outgoing, from: done, owner: opaqueSelf)
        outgoing.removeAll(keepingCapacity: true)
        var buffer = request.buffer
        let rc = uv_write(request.request, stream, &buffer, 1, writeCallback)
        guard rc == 0 else {
            WriteRequest.free(request.request)
            return fail("write: \(uvError(rc))")
        }
        writeInFlight = true
    }

    fileprivate func wrote(status: Int32) {
        writeInFlight = false
        guard state == .open || state == .handshaking else { return }
        guard status == 0 else { return fail("write: \(uvError(status))") }
        flush()
    }

    /// Tears the connection down and tells the driver why.
    func fail(_ reason: String) {
        guard state != .closed else { return }
        close()
        driver.connectionFailed(self, reason: reason)
    }

    /// Closes the socket (if one was opened); the handle's memory is freed by the close callback.
    func close() {
        guard state != .closed else { return }
        state = .closed
        if let tcp {
            tcp.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_close($0, closeCallback) }
            self.tcp = nil
        }
    }
}

/// A `uv_write_t` and the bytes it writes, in one allocation's lifetime: both are freed when
/// the write completes.
enum WriteRequest {
    static func make(copying bytes: [UInt8], from start: Int, owner: UnsafeMutableRawPointer)
        -> (request: UnsafeMutablePointer<uv_write_t>, buffer: uv_buf_t)
    {
        let count = bytes.count - start
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 16)
        bytes.withUnsafeBytes { storage.copyMemory(from: $0.baseAddress! + start, byteCount: count) }
        let request = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
        request.pointee.data = storage
        return (request, uv_buf_init(storage.assumingMemoryBound(to: CChar.self), UInt32(count)))
    }

    static func free(_ request: UnsafeMutablePointer<uv_write_t>) {
        request.pointee.data?.deallocate()
        request.deallocate()
    }
}

func uvError(_ code: Int32) -> String { String(cString: uv_strerror(code)) }

private func connection(of handle: UnsafeMutableRawPointer?) -> ClientConnection? {
    guard let handle else { return nil }
    let data = handle.assumingMemoryBound(to: uv_handle_t.self).pointee.data
    return data.map { Unmanaged<ClientConnection>.fromOpaque($0).takeUnretainedValue() }
}

private let connectCallback: uv_connect_cb = { request, status in
    guard let request else { return }
    let owner = request.pointee.data
    request.deallocate()
    guard let owner else { return }
    Unmanaged<ClientConnection>.fromOpaque(owner).takeUnretainedValue().connected(status: status)
}

private let allocCallback: uv_alloc_cb = { handle, _, buffer in
    guard let buffer else { return }
    guard let connection = connection(of: UnsafeMutableRawPointer(handle)) else {
        buffer.pointee = uv_buf_init(nil, 0)
        return
    }
    // One read buffer per loop is enough: every read is consumed before the next one.
    let storage = connection.driver.readBuffer
    buffer.pointee = uv_buf_init(storage.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(storage.count))
}

private let readCallback: uv_read_cb = { stream, nread, buffer in
    guard let connection = connection(of: UnsafeMutableRawPointer(stream)) else { return }
    if nread > 0, let base = buffer?.pointee.base {
        connection.received(UnsafeRawBufferPointer(start: base, count: nread))
    } else if nread < 0 {
        connection.fail(Int32(nread) == UV_EOF.rawValue ? "server closed the connection" : "read: \(uvError(Int32(nread)))")
    }
}

private let writeCallback: uv_write_cb = { request, status in
    guard let request else { return }
    let stream = request.pointee.handle
    WriteRequest.free(request)
    connection(of: UnsafeMutableRawPointer(stream))?.wrote(status: status)
}

private let closeCallback: uv_close_cb = { handle in
    handle?.withMemoryRebound(to: uv_tcp_t.self, capacity: 1) { $0.deallocate() }
}
