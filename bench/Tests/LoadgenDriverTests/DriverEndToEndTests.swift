import CUV
import LoadgenCore
import NoexLoop
import Testing

@testable import LoadgenDriver

/// Echoes every message, as `noex-server --echo` does.
private final class Echo: WebSocketServerDelegate {
    var opened = 0
    func onOpen(_ server: WebSocketServer, _ id: ConnectionID, remoteAddress: String) { opened += 1 }
    func onText(_ server: WebSocketServer, _ id: ConnectionID, _ bytes: UnsafeRawBufferPointer) { server.send(id, text: bytes) }
    func onBinary(_ server: WebSocketServer, _ id: ConnectionID, _ bytes: UnsafeRawBufferPointer) { server.send(id, binary: bytes) }
}

/// Answers every text message with a fixed wrong text.
private final class WrongAnswer: WebSocketServerDelegate {
    func onText(_ server: WebSocketServer, _ id: ConnectionID, _ bytes: UnsafeRawBufferPointer) { server.send(id, text: Array("nope".utf8)) }
}

/// Closes each connection at its first message.
private final class Closer: WebSocketServerDelegate {
    func onText(_ server: WebSocketServer, _ id: ConnectionID, _ bytes: UnsafeRawBufferPointer) { server.close(id, code: 1008) }
}

/// Runs a driver with `arguments` against a NoexLoop server (with `delegate`) on one loop,
/// bounded by the options' durations; returns the finished driver.
private func runAgainstServer(
    _ delegate: some WebSocketServerDelegate, _ arguments: [String], logged: inout [String],
    generator: ((LoadgenOptions, Int) -> any RequestGenerator)? = nil
) throws -> (LoadDriver, allConnected: (Int, Int)?) {
    let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
    defer { loop.deallocate() }
    #expect(uv_loop_init(loop) == 0)
    let server = WebSocketServer(loop: loop, config: WebSocketServerConfig(host: "127.0.0.1", port: 0))
    server.delegate = delegate
    try server.start()
    let options = try LoadgenOptions.parse(arguments + ["--port", String(server.port)])
    var messages: [String] = []
    let driver = try LoadDriver(options: options, loop: loop, log: { messages.append($0) }) { (connection: Int) in
        generator?(options, connection) ?? EchoGenerator(size: options.size)
    }
    var allConnected: (Int, Int)?
    driver.onAllConnected = { allConnected = ($0, $1) }
    driver.onFinished = { server.stop() }
    driver.start()
    server.run()
    #expect(uv_loop_close(loop) == 0, "every handle of driver and server is closed")
    logged = messages
    return (driver, allConnected)
}

@Suite(.serialized) struct DriverEndToEndTests {
    @Test func echoRunCountsAndTimesEveryAnswer() throws {
        var logged: [String] = []
        let (driver, _) = try runAgainstServer(
            Echo(), ["--connections", "8", "--inflight", "4", "--size", "100", "--seconds", "0.5", "--warmup", "0.2"],
            logged: &logged)
        #expect(driver.failure == nil)
        let report = driver.report
        #expect(report.answers > 100, "8 x 4 pipelined echoes over 0.5 s on loopback")
        #expect(report.wrongAnswers == 0)
        #expect(report.latencies.totalCount == report.answers)
        #expect(report.latencies.valueAtPercentile(50) > 0)
        #expect(report.elapsedNanoseconds >= 450_000_000 && report.elapsedNanoseconds < 5_000_000_000)
        #expect(report.messagesPerSecond > 0)
        #expect(driver.opened == 8 && logged.isEmpty)
    }

    @Test func largeMessagesCrossManyReadsAndWrites() throws {
        var logged: [String] = []
        let (driver, _) = try runAgainstServer(
            Echo(), ["--connections", "2", "--inflight", "3", "--size", "300000", "--seconds", "0.5", "--warmup", "0"],
            logged: &logged)
        #expect(driver.failure == nil)
        #expect(driver.report.answers > 3)
        #expect(driver.report.wrongAnswers == 0)
    }

    @Test func wrongAnswersAreCounted() throws {
        var logged: [String] = []
        let (driver, _) = try runAgainstServer(
            WrongAnswer(), ["--connections", "2", "--inflight", "2", "--seconds", "0.3", "--warmup", "0"],
            logged: &logged)
        #expect(driver.failure == nil)
        #expect(driver.report.wrongAnswers > 0)
        #expect(driver.report.answers == 0)
        // The first wrong answer is explained once, on the log, and kept for the summary.
        let why = "expected the 20-byte text message that was sent back, got a text message of 4 bytes: 'nope'"
        #expect(driver.firstUnexpected == why)
        #expect(logged.count == 1 && logged.first?.hasSuffix(why) == true, "\(logged)")
    }

    @Test func protocolLoadAgainstAnEchoServerSaysWhy() throws {
        var logged: [String] = []
        let (driver, _) = try runAgainstServer(
            Echo(), ["--mode", "proto", "--op", "insert", "--connections", "1", "--inflight", "1", "--seconds", "0.2", "--warmup", "0"],
            logged: &logged, generator: { options, connection in options.generator(run: 9, connection: connection) })
        #expect(driver.report.wrongAnswers > 0)
        let why = try #require(driver.firstUnexpected)
        #expect(why.hasPrefix(#"the server sent back a message that is neither a result nor an error: '{"id":1,"type":"store.insert""#), "\(why)")
        #expect(why.contains("the server is an echo server (--echo)") && why.contains("bench/proto-config.json"), "\(why)")
    }

    @Test func aServerCloseAbortsTheEchoRun() throws {
        var logged: [String] = []
        let (driver, _) = try runAgainstServer(
            Closer(), ["--connections", "2", "--seconds", "5", "--warmup", "0"], logged: &logged)
        #expect(driver.failure?.contains("1008") == true, "the close code is reported: \(driver.failure ?? "")")
    }

    @Test func idleModeOpensAndHoldsEveryConnection() throws {
        var logged: [String] = []
        let echo = Echo()
        let (driver, allConnected) = try runAgainstServer(
            echo, ["--mode", "idle", "--connections", "300", "--connect-concurrency", "50", "--seconds", "0.2"],
            logged: &logged)
        #expect(allConnected?.0 == 300 && allConnected?.1 == 0)
        #expect(echo.opened == 300, "every handshake reached the server")
        #expect(driver.allOpened && driver.failure == nil)
        #expect(driver.report.answers == 0, "idle connections send nothing")
    }

    @Test func refusedConnectionFailsTheRun() throws {
        // A port with no listener: bind one, note its number, close it.
        let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        defer { loop.deallocate() }
        #expect(uv_loop_init(loop) == 0)
        let probe = WebSocketServer(loop: loop, config: WebSocketServerConfig(host: "127.0.0.1", port: 0))
        try probe.start()
        let port = probe.port
        probe.stop()
        probe.run()
        let options = try LoadgenOptions.parse(["--port", String(port), "--connections", "3", "--seconds", "1"])
        let driver = try LoadDriver(options: options, loop: loop, log: { _ in }) { EchoGenerator(size: 20) }
        driver.run()
        #expect(driver.failure?.contains("connection refused") == true, "\(driver.failure ?? "no failure")")
        #expect(driver.failure?.contains("nothing listens on 127.0.0.1 port \(port): start the server first") == true)
        #expect(uv_loop_close(loop) == 0)
    }
}
