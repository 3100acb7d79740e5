import Foundation
import Testing

/// The `noex-server` executable itself: flags, banner, demo schema, errors, SIGTERM.
@Suite(.serialized) struct BinaryTests {
    func locateBinary() -> URL? { locateServerBinary() }

    /// Starts the binary with `args`, its stdout and stderr on pipes.
    func spawn(_ args: [String]) throws -> (process: Process, out: Pipe, err: Pipe) {
        let exe = try #require(locateBinary(), "noex-server binary not found; run swift build --build-tests")
        let p = Process()
        p.executableURL = exe
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        return (p, out, err)
    }

    /// Both pipes are drained before the wait, stderr on its own thread: a child that writes
    /// more than a pipe holds (an ASan report at exit) would otherwise block, and the wait with it.
    func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let (p, out, err) = try spawn(args)
        let errText = DrainedPipe(err)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: outData, as: UTF8.self), errText.text())
    }

    @Test func helpVersionAndErrors() throws {
        let v = try run(["--version"])
        #expect(v.status == 0 && v.out == "noex-server v0.1.0\n")
        #expect(try run(["-v"]).out == "noex-server v0.1.0\n")
        let help = try run(["-h"])
        #expect(help.status == 0 && help.out.contains("--max-connections-per-ip") && help.out.contains("--no-try-write"))
        #expect(try run(["--help"]).out == help.out)
        let hint = "Run \"noex-server --help\" for usage information.\n"
        let bad = try run(["--frob"])
        #expect(bad.status == 1 && bad.err.hasPrefix("Error: Unknown option '--frob'") && bad.err.hasSuffix("\n" + hint))
        let port = try run(["-p", "70000"])
        #expect(port.status == 1 && port.err == "Error: Invalid port: 70000 (must be integer 0-65535)\n" + hint)
        let notNumber = try run(["--max-payload-bytes=lots"])
        #expect(notNumber.status == 1 && notNumber.err.hasPrefix("Error: ") && notNumber.err.contains("lots"))
        let refused = try run(["--persistence", "file", "--data-dir", "/proc/no-such-dir/data"])
        #expect(refused.status == 1 && refused.err == "Error: cannot create data directory \"/proc/no-such-dir/data\": No such file or directory\n")
    }

    /// Starts the binary (through `sh -c` when `shell` is given, e.g. to lower a limit first)
    /// and reads its banner; returns the process, the bound port and its stderr pipe. The
    /// binary starts with SIGPIPE at its default action, as from a shell or a service manager
    /// (the test runner ignores it, and a child would inherit that).
    func launch(_ args: [String], shell: String? = nil) throws -> (process: Process, port: Int, stderr: Pipe) {
        let exe = try #require(locateBinary())
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        if let shell {
            p.arguments = ["--default-signal=PIPE", "/bin/sh", "-c", shell + "; exec \"$0\" \"$@\"", exe.path] + args
        } else {
            p.arguments = ["--default-signal=PIPE", exe.path] + args
        }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        var banner = ""
        let handle = out.fileHandleForReading
        while !banner.contains("Schema:") {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            banner += String(decoding: chunk, as: UTF8.self)
        }
        let urlLine = banner.split(separator: "\n").first { $0.contains("URL:") }
        guard let port = urlLine.flatMap({ Int($0.split(separator: ":").last ?? "") }) else {
            p.terminate()
            throw BinaryTestError("no banner: \(banner)")
        }
        return (p, port, err)
    }

    struct BinaryTestError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    @Test func startsOnTheDemoSchemaAndStopsOnSIGTERM() throws {
        let (p, port, _) = try launch(["-p", "0", "-H", "127.0.0.1", "--shutdown-grace-period-ms", "0"])
        defer { if p.isRunning { p.terminate() } }
        let c = try #require(WebSocketTestClient(port: port))
        #expect(c.nextText()?.contains("\"welcome\"") == true)
        c.sendText(#"{"id":1,"type":"store.buckets"}"#)
        #expect(c.nextText() == #"{"id":1,"type":"result","data":{"count":4,"names":["users","products","orders","logs"]}}"#)
        c.sendText(#"{"id":2,"type":"rules.stats"}"#)
        #expect(c.nextText()?.contains("\"rulesCount\":0") == true)
        p.terminate()  // SIGTERM without a grace period: no notice, the close at once
        #expect(c.next() == .close(code: 1001, reason: "server_shutting_down"))  // the client answers the close
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    @Test func sigtermAnnouncesTheShutdownAnswersDuringTheGracePeriodThenClosesWith1001() throws {
        let (p, port, _) = try launch(["-p", "0", "-H", "127.0.0.1", "--shutdown-grace-period-ms", "1500"])
        defer { if p.isRunning { p.terminate() } }
        let c = try #require(WebSocketTestClient(port: port))
        #expect(c.nextText()?.contains("\"welcome\"") == true)
        p.terminate()  // SIGTERM
        #expect(c.nextText() == #"{"type":"system","event":"shutdown","gracePeriodMs":1500}"#)
        c.sendText(#"{"id":7,"type":"store.insert","bucket":"logs","data":{"action":"during grace"}}"#)
        let answer = WireStoreClient.parse(c.nextText())
        #expect(answer["id"] == 7 && answer["type"] == "result" && answer["data"]?["action"] == "during grace")
        #expect(c.next() == .close(code: 1001, reason: "server_shutting_down"))
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    @Test func aSecondSignalEndsTheGracePeriodAtOnce() throws {
        let (p, port, _) = try launch(["-p", "0", "-H", "127.0.0.1", "--shutdown-grace-period-ms", "300000"])
        defer { if p.isRunning { p.terminate() } }
        let c = try #require(WebSocketTestClient(port: port))
        #expect(c.nextText()?.contains("\"welcome\"") == true)
        kill(p.processIdentifier, SIGINT)
        #expect(c.nextText() == #"{"type":"system","event":"shutdown","gracePeriodMs":300000}"#)
        kill(p.processIdentifier, SIGTERM)
        #expect(c.next() == .close(code: 1001, reason: "server_shutting_down"))
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    /// A client that closes its connection while the server still writes answers to it must
    /// not take the process down (SIGPIPE): the server goes on serving others.
    @Test func aClientClosingItsConnectionMidAnswersDoesNotKillTheServer() throws {
        let (p, port, _) = try launch(["-p", "0", "-H", "127.0.0.1", "--shutdown-grace-period-ms", "0"])
        defer { if p.isRunning { p.terminate() } }
        for _ in 0..<3 {
            let fd = try #require(connectLoopback(port: port))
            let upgrade = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            var bytes = Array(upgrade.utf8)
            for i in 1...3_000 {
                bytes += WebSocketTestClient.maskedFrame(opcode: 1, Array(#"{"id":\#(i),"type":"server.stats"}"#.utf8))
            }
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            usleep(50_000)  // the server is answering
            // The client is done sending (FIN: the server sees EOF and keeps flushing answers),
            // reads what has arrived and closes: the next answers meet a reset socket, and a
            // write after that fails with EPIPE, which raises SIGPIPE unless it is ignored.
            shutdown(fd, Int32(SHUT_WR))
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while chunk.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {}
            close(fd)
        }
        let c = try #require(WebSocketTestClient(port: port))
        #expect(c.nextText()?.contains("\"welcome\"") == true)
        c.sendText(#"{"id":1,"type":"store.buckets"}"#)
        #expect(c.nextText()?.contains("\"count\":4") == true)
        #expect(p.isRunning)
        p.terminate()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    /// A server out of file descriptors keeps serving its connections, reports the failed
    /// accepts on stderr (rate-limited) and accepts again once descriptors are free.
    @Test func acceptFailuresAreReportedAndTheServerRecovers() throws {
        let (p, port, stderr) = try launch(["-p", "0", "-H", "127.0.0.1", "--shutdown-grace-period-ms", "0"],
                                           shell: "ulimit -n 32")
        defer { if p.isRunning { p.terminate() } }
        let first = try #require(WebSocketTestClient(port: port))
        #expect(first.nextText()?.contains("\"welcome\"") == true)
        var clients: [WebSocketTestClient] = []
        var refused = 0
        for _ in 0..<64 where refused < 3 {
            guard let c = WebSocketTestClient(port: port, timeoutMs: 1000) else { refused += 1; continue }
            if c.upgraded, c.nextText()?.contains("\"welcome\"") == true { clients.append(c) } else { refused += 1 }
        }
        #expect(refused == 3, "the descriptor limit was never reached")
        #expect(clients.count < 32)
        first.sendText(#"{"id":1,"type":"store.buckets"}"#)
        #expect(first.nextText()?.contains("\"count\":4") == true)
        clients.removeAll()  // frees descriptors in the server once it sees the closes
        var again: WebSocketTestClient?
        for _ in 0..<50 where again == nil {
            if let c = WebSocketTestClient(port: port, timeoutMs: 1000), c.upgraded, c.nextText()?.contains("\"welcome\"") == true {
                again = c
            } else {
                usleep(20_000)
            }
        }
        #expect(again != nil, "the server did not accept again")
        let metrics = try Exposition(parsing: try #require(curl(port: port, "/metrics")).body)
        #expect(metrics["noex_accept_errors_total"] >= 1)
        p.terminate()
        p.waitUntilExit()
        let log = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = log.split(separator: "\n").filter { $0.contains("accept failed") }
        #expect(lines.first?.hasPrefix("[noex-server] accept failed: EMFILE") == true, "stderr: \(log)")
        // Rate-limited: the retries of the first second (5 ms, 10 ms, ... apart) share one line.
        let counts = lines.compactMap { line in line.split(separator: "(").last?.split(separator: " ").first.flatMap { Int($0) } }
        #expect(counts.count == lines.count && counts.reduce(0, +) > lines.count, "not rate-limited: \(log)")
    }

    /// The monitoring flags reach the running binary: the README's curl example, on a moved path.
    @Test func servesMetricsAndHealthAsFlagged() throws {
        let exe = try #require(locateBinary())
        let p = Process()
        p.executableURL = exe
        p.arguments = ["-p", "0", "-H", "127.0.0.1", "--metrics-path", "/ops/metrics", "--no-health"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        var banner = ""
        while !banner.contains("Schema:") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            banner += String(decoding: chunk, as: UTF8.self)
        }
        #expect(banner.contains("\n  Monitoring:   /ops/metrics\n"))
        let urlLine = try #require(banner.split(separator: "\n").first { $0.contains("URL:") })
        let port = try #require(Int(urlLine.split(separator: ":").last ?? ""))
        let metrics = try #require(curl(port: port, "/ops/metrics"))
        #expect(metrics.status == 200)
        #expect(try Exposition(parsing: metrics.body)["noex_store_records{bucket=\"users\"}"] == 0)
        #expect(curl(port: port, "/health")?.status == 404)
        p.terminate()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}

/// Reads a pipe to its end on a thread of its own; `text()` waits for the end.
final class DrainedPipe: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread {
            self.data = handle.readDataToEndOfFile()  // published by the semaphore's signal
            self.done.signal()
        }
    }

    func text() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
