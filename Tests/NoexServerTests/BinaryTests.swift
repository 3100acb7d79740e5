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

    func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let (p, out, err) = try spawn(args)
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
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

    @Test func startsOnTheDemoSchemaAndStopsOnSIGTERM() throws {
        let exe = try #require(locateBinary())
        let p = Process()
        p.executableURL = exe
        p.arguments = ["-p", "0", "-H", "127.0.0.1"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        var banner = ""
        let handle = out.fileHandleForReading
        while !banner.contains("Schema:") {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            banner += String(decoding: chunk, as: UTF8.self)
        }
        let urlLine = try #require(banner.split(separator: "\n").first { $0.contains("URL:") })
        let port = try #require(Int(urlLine.split(separator: ":").last ?? ""))
        let c = try #require(WebSocketTestClient(port: port))
        #expect(c.nextText()?.contains("\"welcome\"") == true)
        c.sendText(#"{"id":1,"type":"store.buckets"}"#)
        #expect(c.nextText() == #"{"id":1,"type":"result","data":{"count":4,"names":["users","products","orders","logs"]}}"#)
        c.sendText(#"{"id":2,"type":"rules.stats"}"#)
        #expect(c.nextText()?.contains("\"rulesCount\":0") == true)
        p.terminate()  // SIGTERM
        #expect(c.next() == .close(code: 1000, reason: "server_shutdown"))  // the client answers the close
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
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
