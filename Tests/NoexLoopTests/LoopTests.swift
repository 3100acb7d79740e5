// Real server, real sockets: each test owns a private uv_loop_t on port 0 and ends with the
// leak check `uv_loop_close(loop) == 0`.
import CUV
import Glibc
import Testing

@testable import NoexLoop

@Suite struct LoopTests {
    @Test func echoesTextAndBinaryAndCompletesTheCloseHandshake() throws {
        let server = try ServerThread(testConfig())
        #expect(server.port > 0)
        let client = try #require(TestClient(port: server.port))
        #expect(client.handshake())
        client.sendFrame(opcode: 1, payload: Array("hello".utf8))
        #expect(client.readFrame()! == (1, Array("hello".utf8)))
        client.sendFrame(opcode: 2, payload: [0, 1, 2, 255])
        #expect(client.readFrame()! == (2, [0, 1, 2, 255]))
        let big = [UInt8]((0..<200_000).map { UInt8(97 + $0 % 26) })
        client.sendFrame(opcode: 1, payload: big)
        let echoed = try #require(client.readFrame())
        #expect(echoed.opcode == 1 && echoed.payload == big)

        client.sendFrame(opcode: 8, payload: [0x03, 0xE8] + Array("bye".utf8))
        #expect(client.readFrame()! == (8, [0x03, 0xE8]))
        #expect(client.expectEOF())

        server.stop()
        #expect(server.join() == 0)
        #expect(server.recorder.opened.count == 1)
        #expect(server.recorder.closed.map(\.1) == [1000])
        #expect(server.recorder.infos.first?.remoteAddress == "127.0.0.1")
        #expect(server.recorder.stopped)
    }

    @Test func handlesFragmentsPingsAndPipelinedFirstFrames() throws {
        let server = try ServerThread(testConfig())
        let client = try #require(TestClient(port: server.port))
        // The first frame travels in the same write as the upgrade request.
        #expect(client.handshake(extra: clientFrame(opcode: 1, payload: Array("early".utf8))))
        #expect(client.readFrame()! == (1, Array("early".utf8)))
        client.sendFrame(opcode: 1, payload: Array("frag".utf8), fin: false)
        client.sendFrame(opcode: 9, payload: [7, 7])
        client.sendFrame(opcode: 0, payload: Array("ment".utf8), fin: false)
        client.sendFrame(opcode: 0, payload: Array("ed".utf8))
        #expect(client.readFrame()! == (0xA, [7, 7]))
        #expect(client.readFrame()! == (1, Array("fragmented".utf8)))
        server.stop()
        #expect(client.readCloseCode() == 1001)
        #expect(server.join() == 0)
    }

    static let violations: [(String, [UInt8], UInt16)] = [
        ("unmasked", clientFrame(opcode: 1, payload: [0x41], masked: false), 1002),
        ("bad UTF-8", clientFrame(opcode: 1, payload: [0x61, 0xC0, 0xAF]), 1007),
        ("oversize", clientFrame(opcode: 1, payload: [UInt8](repeating: 0x61, count: 1025)), 1009),
        ("binary in JSON mode", clientFrame(opcode: 2, payload: [1]), 1003),
        ("reserved opcode", clientFrame(opcode: 5, payload: []), 1002),
        ("bad close code", clientFrame(opcode: 8, payload: [0x03, 0xEE]), 1002),
    ]

    @Test(arguments: LoopTests.violations)
    func protocolViolationsCloseWithTheRightCode(name: String, frame: [UInt8], code: UInt16) throws {
        let server = try ServerThread(testConfig(maxMessageBytes: 1024, rejectBinary: true))
        let client = try #require(TestClient(port: server.port))
        #expect(client.handshake())
        client.send(frame)
        #expect(client.readCloseCode() == code, "\(name)")
        // The server shuts down its side after the close frame drained.
        #expect(client.expectEOF(), "\(name)")
        server.stop()
        #expect(server.join() == 0)
        #expect(server.recorder.closed.map(\.1) == [code])
    }

    @Test func offeredSubprotocolIsEchoed() throws {
        let server = try ServerThread(testConfig())
        let client = try #require(TestClient(port: server.port))
        client.send("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + "Sec-WebSocket-Protocol: noex, other\r\n\r\n")
        let head = try #require(client.readResponseHead())
        #expect(head.hasPrefix("HTTP/1.1 101 "))
        #expect(head.hasSuffix("\r\nSec-WebSocket-Protocol: noex"))
        server.stop()
        #expect(client.readCloseCode() == 1001)
        #expect(server.join() == 0)
    }

    @Test func exactlyMaxPayloadIsAccepted() throws {
        let server = try ServerThread(testConfig(maxMessageBytes: 1024))
        let client = try #require(TestClient(port: server.port))
        #expect(client.handshake())
        let payload = [UInt8](repeating: 0x62, count: 1024)
        client.sendFrame(opcode: 1, payload: payload)
        #expect(client.readFrame()?.payload == payload)
        server.stop()
        #expect(server.join() == 0)
    }

    static let badUpgrades: [(String, String)] = [
        ("GET /other HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", "HTTP/1.1 404 "),
        ("POST / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", "HTTP/1.1 405 "),
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 426 "),
        ("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n", "HTTP/1.1 400 "),
        ("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", "HTTP/1.1 426 "),
        ("NOT HTTP AT ALL\r\n\r\n", "HTTP/1.1 400 "),
    ]

    @Test(arguments: LoopTests.badUpgrades)
    func badUpgradesGetAnHTTPErrorAndAreClosed(request: String, statusLine: String) throws {
        let server = try ServerThread(testConfig())
        let client = try #require(TestClient(port: server.port))
        client.send(request)
        let response = try #require(client.readToEOF())
        let text = String(decoding: response, as: UTF8.self)
        #expect(text.hasPrefix(statusLine), "\(text)")
        server.stop()
        #expect(server.join() == 0)
        #expect(server.recorder.opened.isEmpty)
        #expect(server.recorder.closed.isEmpty)
    }

    /// End to end: a client that sends its last bytes and FIN at once still gets the answer.
    /// (libuv reports EOF on a later read than the data, after our pre-poll flush, so this
    /// mostly guards the flush order; `peerEnded` covers the same-read case in the unit tests.)
    @Test func halfClosingClientStillGetsTheQueuedAnswer() throws {
        let server = try ServerThread(testConfig())
        let client = try #require(TestClient(port: server.port))
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        shutdown(client.fd, Int32(SHUT_WR))
        let response = String(decoding: try #require(client.readToEOF()), as: UTF8.self)
        #expect(response.hasPrefix("HTTP/1.1 426 "))
        #expect(response.hasSuffix("WebSocket upgrade required"))

        let ws = try #require(TestClient(port: server.port))
        #expect(ws.handshake())
        ws.sendFrame(opcode: 1, payload: Array("last words".utf8))
        ws.sendFrame(opcode: 8, payload: [0x03, 0xE8])
        shutdown(ws.fd, Int32(SHUT_WR))
        #expect(ws.readFrame().map { $0 == (1, Array("last words".utf8)) } == true)
        #expect(ws.readCloseCode() == 1000)
        #expect(ws.expectEOF())
        server.stop()
        #expect(server.join() == 0)
    }

    @Test func clientThatNeverFinishesTheHandshakeIsDropped() throws {
        let server = try ServerThread(testConfig(handshakeTimeoutMs: 200))
        let client = try #require(TestClient(port: server.port))
        let start = uv_hrtime()
        client.send("GET / HTTP/1.1\r\nHost:")
        #expect(client.expectEOF())
        let elapsedMs = (uv_hrtime() - start) / 1_000_000
        #expect(elapsedMs >= 150 && elapsedMs < 3000, "dropped after \(elapsedMs) ms")
        server.stop()
        #expect(server.join() == 0)
    }

    @Test func gracefulStopSendsGoingAwayAndClosesEverything() throws {
        let server = try ServerThread(testConfig(closingTimeoutMs: 300))
        let polite = try #require(TestClient(port: server.port))
        let silent = try #require(TestClient(port: server.port))
        let halfway = try #require(TestClient(port: server.port))
        #expect(polite.handshake())
        #expect(silent.handshake())
        halfway.send("GET / HTTP/1.1\r\n")
        polite.sendFrame(opcode: 1, payload: Array("x".utf8))
        #expect(polite.readFrame()?.payload == Array("x".utf8))

        server.stop()
        let frame = try #require(polite.readFrame())
        #expect(frame.opcode == 8)
        #expect(frame.payload == [0x03, 0xE9] + Array("server_shutting_down".utf8))
        polite.sendFrame(opcode: 8, payload: [0x03, 0xE9])
        #expect(polite.expectEOF())
        // The silent client gets the close frame and, without answering, EOF at the deadline.
        #expect(silent.readCloseCode() == 1001)
        #expect(silent.expectEOF())
        #expect(halfway.expectEOF())
        #expect(server.join() == 0)
        #expect(server.recorder.closed.count == 2)
        // The listener is closed: new connections are refused.
        #expect(TestClient(port: server.port) == nil)
    }

    @Test func webSocketHeartbeatPingsAndClosesWith4001() throws {
        let server = try ServerThread(testConfig(heartbeat: HeartbeatConfig(intervalMs: 100, timeoutMs: 150, style: .webSocketPing)))
        let answering = try #require(TestClient(port: server.port))
        let silent = try #require(TestClient(port: server.port))
        #expect(answering.handshake())
        #expect(silent.handshake())
        // The answering client pongs three pings in a row and stays open.
        for _ in 0..<3 {
            let ping = try #require(answering.readFrame())
            #expect(ping.opcode == 9)
            answering.sendFrame(opcode: 0xA, payload: ping.payload)
        }
        #expect(silent.readFrame()?.opcode == 9)
        #expect(silent.readCloseCode() == 4001)
        answering.sendFrame(opcode: 1, payload: Array("alive".utf8))
        var frame = try #require(answering.readFrame())
        while frame.opcode == 9 { frame = try #require(answering.readFrame()) }
        #expect(frame == (1, Array("alive".utf8)))
        server.stop()
        #expect(server.join() == 0)
        #expect(server.recorder.closed.map(\.1).contains(4001))
    }

    @Test func applicationHeartbeatUsesTheDelegate() throws {
        let server = try ServerThread(testConfig(heartbeat: HeartbeatConfig(intervalMs: 100, timeoutMs: 150, style: .application)))
        let client = try #require(TestClient(port: server.port))
        #expect(client.handshake())
        #expect(client.readFrame()! == (1, Array("ping".utf8)))
        client.sendFrame(opcode: 1, payload: Array("pong".utf8))
        #expect(client.readFrame()! == (1, Array("ping".utf8)))
        // No answer this time.
        #expect(client.readCloseCode() == 4001)
        server.stop()
        #expect(server.join() == 0)
        #expect(server.recorder.heartbeats == 2)
    }

    @Test func slotsAreReusedWithNewGenerations() throws {
        let server = try ServerThread(testConfig())
        for i in 0..<5 {
            let client = try #require(TestClient(port: server.port))
            #expect(client.handshake())
            client.sendFrame(opcode: 1, payload: Array("\(i)".utf8))
            #expect(client.readFrame()?.payload == Array("\(i)".utf8))
            client.sendFrame(opcode: 8, payload: [0x03, 0xE8])
            _ = client.readFrame()
            #expect(client.expectEOF())
        }
        server.stop()
        #expect(server.join() == 0)
        let ids = server.recorder.opened
        #expect(ids.count == 5)
        // A closed slot is freed in its close callback, which may run after the next accept of
        // the same loop iteration: at most two slots alternate, and every reuse is a new id.
        #expect(Set(ids).count == 5)
        #expect(Set(ids.map(\.index)).count <= 2)
        #expect(ids.contains { $0.generation > 0 })
    }

    @Test func slowReaderLosesEventPushesAndTogglesWritability() throws {
        let limits = WriteQueueLimits(lowWaterBytes: 64 << 10, highWaterBytes: 256 << 10, hardLimitBytes: 1 << 20)
        let server = try ServerThread(testConfig(writeLimits: limits))
        server.recorder.floodCount = 64  // 4 MiB of pushes against a 1 MiB hard limit
        let client = try #require(TestClient(port: server.port))
        #expect(client.handshake())
        client.sendFrame(opcode: 1, payload: Array("flood".utf8))
        // Read everything that was queued, then prove the connection still works.
        var received = 0
        while received < 64, let frame = client.readFrame(), frame.opcode == 1, frame.payload.count == 64 << 10 {
            received += 1
            if received >= 8 { break }
        }
        client.sendFrame(opcode: 8, payload: [0x03, 0xE8])
        while let frame = client.readFrame(), frame.opcode != 8 {}
        server.stop()
        #expect(server.join() == 0)
        let results = server.recorder.floodResults
        #expect(results.count == 64)
        #expect(results.contains(.dropped))
        #expect(results.first == .queued)
        #expect(server.recorder.writabilityChanges.first == false)
    }
}

extension LoopTests {
    @Test func stopWithGracePeriodKeepsConnectionsWorkingThenClosesWithTheConfiguredCode() throws {
        let options = StopOptions(gracePeriodMs: 300, closeCode: 1000, closeReason: "server_shutdown")
        let server = try ServerThread(testConfig(stop: options))
        let client = try #require(TestClient(port: server.port))
        #expect(client.handshake())
        let start = uv_hrtime()
        server.stop()
        #expect(client.readFrame()! == (1, Array("stopping 300".utf8)))
        client.sendFrame(opcode: 1, payload: Array("still here".utf8))
        #expect(client.readFrame()! == (1, Array("still here".utf8)))
        let close = try #require(client.readFrame())
        let elapsedMs = (uv_hrtime() - start) / 1_000_000
        #expect(close == (8, [0x03, 0xE8] + Array("server_shutdown".utf8)))
        #expect(elapsedMs >= 250, "closed after \(elapsedMs) ms")
        client.sendFrame(opcode: 8, payload: [0x03, 0xE8])
        #expect(client.expectEOF())
        #expect(server.join() == 0)
        #expect(server.recorder.closed.map(\.1) == [1000])
    }

    @Test func clientStuckAboveTheHardLimitIsDisconnected() throws {
        let limits = WriteQueueLimits(lowWaterBytes: 64 << 10, highWaterBytes: 256 << 10, hardLimitBytes: 1 << 20)
        let server = try ServerThread(testConfig(writeLimits: limits, slowClientTimeoutMs: 100))
        server.recorder.floodCount = 256  // 16 MiB of responses; the client reads nothing
        let client = try #require(TestClient(port: server.port))
        #expect(client.handshake())
        client.sendFrame(opcode: 1, payload: Array("floodresponses".utf8))
        // Drain the socket without parsing until the server cuts the connection.
        _ = client.readToEOFOrReset(afterMs: 1000)
        server.stop()
        #expect(server.join() == 0)
        #expect(server.recorder.floodResults.allSatisfy { $0 == .queued })
        #expect(server.recorder.closed.map(\.1) == [1006])
    }
}

@Suite struct LoopTimerTests {
    /// Runs on the test's own thread: the loop ends when the timers stop the server.
    @Test func oneShotAndRepeatingTimersFireAndTheLoopClosesCleanly() throws {
        let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        defer { loop.deallocate() }
        #expect(uv_loop_init(loop) == 0)
        let server = WebSocketServer(loop: loop, config: testConfig())
        try server.start()
        final class Counts { var once = 0, repeated = 0, cancelled = 0 }
        let counts = Counts()
        server.addTimer(delayMs: 5) { counts.once += 1 }
        let never = server.addTimer(delayMs: 50) { counts.cancelled += 1 }
        server.cancelTimer(never)
        var repeating: LoopTimerID?
        repeating = server.addTimer(delayMs: 1, repeatMs: 10) {
            counts.repeated += 1
            if counts.repeated == 3 {
                server.cancelTimer(repeating!)
                // A timer still pending at stop is cancelled by the stop.
                server.addTimer(delayMs: 10_000) { counts.cancelled += 1 }
                server.stop()
            }
        }
        server.run()
        #expect(counts.once == 1)
        #expect(counts.repeated == 3)
        #expect(counts.cancelled == 0)
        #expect(server.timerCount == 0)
        #expect(uv_loop_close(loop) == 0)
    }

    @Test func listeningOnABusyPortFailsWithAnError() throws {
        let first = try ServerThread(testConfig())
        let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        defer { loop.deallocate() }
        #expect(uv_loop_init(loop) == 0)
        var config = testConfig()
        config.port = first.port
        let server = WebSocketServer(loop: loop, config: config)
        #expect(throws: UVError(UV_EADDRINUSE.rawValue)) { try server.start() }
        uv_run(loop, UV_RUN_DEFAULT)
        config.port = 70_000
        let outOfRange = WebSocketServer(loop: loop, config: config)
        #expect(throws: UVError(UV_EINVAL.rawValue)) { try outOfRange.start() }
        uv_run(loop, UV_RUN_DEFAULT)
        config.port = 0
        config.host = "192.0.2.1"  // TEST-NET-1: never an address of this machine
        let foreign = WebSocketServer(loop: loop, config: config)
        #expect(throws: UVError(UV_EADDRNOTAVAIL.rawValue)) { try foreign.start() }
        uv_run(loop, UV_RUN_DEFAULT)
        #expect(uv_loop_close(loop) == 0)
        first.stop()
        #expect(first.join() == 0)
    }
}

extension LoopTests {
    /// Accept failures are all counted but reported at most once per loop-clock second, with
    /// the number since the previous report (the server is driven directly, on this thread).
    @Test func acceptFailuresAreCountedAndReportedAtMostOncePerSecond() throws {
        let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        defer { loop.deallocate() }
        #expect(uv_loop_init(loop) == 0)
        let server = WebSocketServer(loop: loop, config: testConfig())
        let recorder = Recorder()
        server.delegate = recorder
        try server.start()
        for _ in 0..<100 { server.acceptFailed(UV_EMFILE.rawValue) }
        #expect(server.acceptErrors == 100)
        #expect(recorder.acceptErrorReports.map(\.count) == [1])
        #expect(recorder.acceptErrorReports.first?.name == "EMFILE")
        usleep(1_050_000)  // let the loop clock pass one second
        uv_update_time(loop)
        server.acceptFailed(UV_ENFILE.rawValue)
        #expect(recorder.acceptErrorReports.map(\.count) == [1, 100])
        #expect(recorder.acceptErrorReports.last?.name == "ENFILE")
        server.stop()
        uv_run(loop, UV_RUN_DEFAULT)
        #expect(uv_loop_close(loop) == 0)
    }
}
