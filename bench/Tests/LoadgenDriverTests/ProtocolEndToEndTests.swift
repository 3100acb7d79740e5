import CUV
import LoadgenCore
import NoexJSON
import NoexServer
import Testing

@testable import LoadgenDriver

/// The benchmark's config file (`bench/proto-config.json`), so these tests also check that the
/// file `proto.sh` starts the server with is valid and declares what the modes need.
private func benchServerConfig() throws -> ServerConfig {
    let path = String(#filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")) + "/proto-config.json"
    guard let file = fopen(path, "r") else { throw TestSetupError("cannot open \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[..<n])
    }
    let json = try JSON.parse(bytes)
    var cli = CommandLineOptions()
    cli.port = 0
    let plan = try LaunchPlan.resolve(cli, file: try FileConfig.decode(json))
    return try plan.prepare()
}

struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a driver in `arguments`' mode against a NoexServer started from the bench config on
/// the same loop (port 0), bounded by the options' durations.
private func runAgainstNoexServer(
    _ arguments: [String], generator: @escaping (LoadgenOptions, Int) -> any RequestGenerator
) throws -> (LoadDriver, NoexServer) {
    let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
    defer { loop.deallocate() }
    #expect(uv_loop_init(loop) == 0)
    let server = try NoexServer.start(try benchServerConfig(), loop: loop)
    let options = try LoadgenOptions.parse(arguments + ["--port", String(server.port)])
    let driver = try LoadDriver(options: options, loop: loop, log: { _ in }) { generator(options, $0) }
    driver.onFinished = { server.stop() }
    driver.start()
    _ = server.run()
    #expect(uv_loop_close(loop) == 0, "every handle of driver and server is closed")
    return (driver, server)
}

private func protoGenerator(run: UInt64) -> (LoadgenOptions, Int) -> any RequestGenerator {
    { options, connection in options.generator(run: run, connection: connection) }
}

@Suite(.serialized) struct ProtocolEndToEndTests {
    @Test func getReadsPreinsertedKeysWithoutErrors() throws {
        let (driver, _) = try runAgainstNoexServer(
            ["--mode", "proto", "--op", "get", "--connections", "6", "--inflight", "4", "--keys", "3",
             "--seconds", "0.4", "--warmup", "0.1"], generator: protoGenerator(run: 1))
        #expect(driver.failure == nil, "\(driver.failure ?? "")")
        #expect(driver.report.answers > 50)
        #expect(driver.report.wrongAnswers == 0)
        #expect(driver.report.latencies.totalCount == driver.report.answers)
    }

    @Test func insertAddsFreshRecordsWithoutErrors() throws {
        let (driver, _) = try runAgainstNoexServer(
            ["--mode", "proto", "--op", "insert", "--connections", "4", "--inflight", "8",
             "--seconds", "0.4", "--warmup", "0"], generator: protoGenerator(run: 2))
        #expect(driver.failure == nil, "\(driver.failure ?? "")")
        #expect(driver.report.answers > 50)
        #expect(driver.report.wrongAnswers == 0)
    }

    @Test func errorResponsesAreCounted() throws {
        // An unknown bucket: every store.insert is answered with an error.
        let (driver, _) = try runAgainstNoexServer(
            ["--mode", "proto", "--op", "insert", "--bucket", "missing", "--connections", "2", "--inflight", "2",
             "--seconds", "0.3", "--warmup", "0"], generator: protoGenerator(run: 3))
        #expect(driver.failure == nil)
        #expect(driver.report.wrongAnswers > 10)
        #expect(driver.report.answers == 0)
    }

    @Test func aFailedPreinsertAbortsTheGetRun() throws {
        let (driver, _) = try runAgainstNoexServer(
            ["--mode", "proto", "--op", "get", "--bucket", "missing", "--connections", "2", "--seconds", "2",
             "--warmup", "0"], generator: protoGenerator(run: 4))
        #expect(driver.failure?.contains("setup request") == true, "\(driver.failure ?? "no failure")")
        // The server's error is quoted, so the user sees what to fix (here: the bucket).
        let failure = driver.failure ?? ""
        #expect(failure.contains(#"failed: the server answered with an error: '{"id":1,"type":"error""#), "\(failure)")
        #expect(failure.contains("missing"), "the error names the bucket: \(failure)")
    }

    @Test func echoLoadAgainstTheProtocolServerSaysWhy() throws {
        // bench/README's echo example run against the protocol server: every answer is wrong,
        // and the first one (the welcome) says which server to start instead.
        let (driver, _) = try runAgainstNoexServer(
            ["--connections", "1", "--inflight", "1", "--seconds", "0.2", "--warmup", "0"],
            generator: { options, _ in EchoGenerator(size: options.size) })
        #expect(driver.report.wrongAnswers > 0)
        let why = try #require(driver.firstUnexpected)
        #expect(why.hasPrefix(#"the server answered with a noex protocol message, not the echo of what was sent: '{"type":"welcome""#), "\(why)")
        #expect(why.contains("echo load needs an echo server (noex-server --echo --port P)"), "\(why)")
    }

    @Test func fanoutWaitsForEveryPushOfEachInsert() throws {
        let subscribers = 20
        let (driver, _) = try runAgainstNoexServer(
            ["--mode", "fanout", "--subscribers", String(subscribers), "--bucket", "feed", "--query", "feed-latest",
             "--seconds", "0.4", "--warmup", "0.1"], generator: { options, connection in options.generator(run: 0, connection: connection) })
        #expect(driver.failure == nil, "\(driver.failure ?? "")")
        #expect(driver.subscribed == subscribers)
        let report = driver.report
        #expect(report.answers > 10, "inserts whose pushes all arrived")
        #expect(report.wrongAnswers == 0)
        // One insert at a time: the window holds whole inserts' pushes, plus at most one partial.
        #expect(report.pushes >= report.answers * UInt64(subscribers) - UInt64(subscribers))
        #expect(report.pushes <= (report.answers + 1) * UInt64(subscribers))
    }

    @Test func subscribingToAnUnknownQueryAbortsTheFanoutRun() throws {
        let (driver, _) = try runAgainstNoexServer(
            ["--mode", "fanout", "--subscribers", "3", "--bucket", "feed", "--query", "no-such-query",
             "--seconds", "1", "--warmup", "0"], generator: { options, connection in options.generator(run: 0, connection: connection) })
        #expect(driver.failure?.contains("setup request") == true, "\(driver.failure ?? "no failure")")
    }
}

/// Collects the answers a wrapped generator classifies, to check what the server sent.
private final class AnswerLog {
    var texts: [String] = []
}

private struct Recording: RequestGenerator {
    var inner: any RequestGenerator
    let log: AnswerLog
    var opcode: Opcode { inner.opcode }
    mutating func withRequest(sequence: UInt64, _ body: (UnsafeRawBufferPointer) -> Void) {
        inner.withRequest(sequence: sequence, body)
    }
    mutating func classify(opcode: Opcode, payload: UnsafeRawBufferPointer) -> Reply {
        if log.texts.count < 200 { log.texts.append(String(decoding: payload, as: UTF8.self)) }
        return inner.classify(opcode: opcode, payload: payload)
    }
}

@Suite(.serialized) struct ProtocolAnswersTests {
    @Test func getAnswersCarryTheInsertedRecords() throws {
        let log = AnswerLog()
        let (driver, _) = try runAgainstNoexServer(
            ["--mode", "proto", "--op", "get", "--connections", "1", "--inflight", "2", "--keys", "2",
             "--seconds", "0.2", "--warmup", "0"]
        ) { options, connection in Recording(inner: options.generator(run: 7, connection: connection), log: log) }
        #expect(driver.failure == nil && driver.report.wrongAnswers == 0)
        #expect(log.texts.first?.contains(#""type":"welcome""#) == true)
        // Answers 3, 4, ... are store.get results: the record inserted by answers 1 and 2.
        let gets = log.texts.dropFirst(3)
        #expect(!gets.isEmpty)
        for text in gets.prefix(20) {
            #expect(text.contains(#""type":"result","data":{"#) && text.contains(#""id":"r7-0-"#), "\(text)")
        }
    }
}
