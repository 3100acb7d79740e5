import Foundation
import NoexJSON
import Testing

/// The executable's error messages, each run as a user would: every one names the problem and
/// the fix, on stderr, with exit status 1; and the addresses a user may type (host names, IPv6)
/// work and are shown correctly.
extension BinaryTests {
    private static let hint = "Run \"noex-server --help\" for usage information.\n"

    /// A file in a fresh temporary folder holding `text`; its path.
    private func tempFile(_ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("noex-msg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("config.json")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// Starts the binary and reads stdout up to the line holding `marker` (or to EOF, when it
    /// exits first); the caller terminates the process.
    private func start(_ args: [String], until marker: String) throws -> (Process, String, Pipe) {
        let (p, out, err) = try spawn(args)
        var text = ""
        let handle = out.fileHandleForReading
        while !text.contains(marker) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        return (p, text, err)
    }

    private func boundPort(in banner: String) -> Int? {
        guard let line = banner.split(separator: "\n").first(where: { $0.contains("URL:") || $0.hasPrefix("listening on") }) else { return nil }
        return Int(line.split(separator: ":").last ?? "")
    }

    @Test func negativePortIsABadPortNotAMissingValue() throws {
        let r = try run(["-p", "-1"])
        #expect(r.status == 1 && r.err == "Error: Invalid port: -1 (must be integer 0-65535)\n" + Self.hint)
        let payload = try run(["--max-payload-bytes", "-5"])
        #expect(payload.err == "Error: Invalid --max-payload-bytes: -5 (must be a positive integer no larger than 1073741824)\n" + Self.hint)
    }

    @Test func configFileProblemsNameThePathAndTheFix() throws {
        let missing = try run(["-c", "/nonexistent/noex.json"])
        #expect(missing.status == 1)
        #expect(missing.err == "Error: cannot read config file \"/nonexistent/noex.json\": No such file or directory; check the path given to -c/--config (a relative path starts at the current directory)\n")
        let dir = try run(["-c", "/tmp"])
        #expect(dir.status == 1 && dir.err == "Error: config file \"/tmp\" is a directory; -c/--config takes the path of a JSON file (keys: docs/config.md)\n")
        let empty = try tempFile("  \n")
        #expect(try run(["-c", empty]).err == "Error: config file \"\(empty)\" is empty; it must hold a JSON object such as {\"port\": 8080} (keys: docs/config.md)\n")
        let broken = try tempFile("{\"port\": 8080,\n  \"host\": }\n")
        #expect(try run(["-c", broken]).err == "Error: config file \"\(broken)\" is not valid JSON: Unexpected character '}' at line 2, column 11; fix the file there\n")
        let typo = try tempFile(#"{"prot": 9000}"#)
        let t = try run(["-c", typo])
        #expect(t.status == 1 && t.err.hasPrefix("Error: config file \"\(typo)\": config key \"prot\": unknown key"), "\(t.err)")
    }

    @Test func refusedFlagsSayWhatToDoInstead() throws {
        #expect(try run(["--auth"]).err == "Error: --admin-secret is required when --auth is enabled; add --admin-secret SECRET or drop --auth\n")
    }

    /// `--audit` turns the audit log on with its defaults, says so in the banner, and
    /// `audit.query` answers over the wire.
    @Test func auditFlagTurnsTheAuditLogOn() throws {
        let (p, banner, _) = try start(["--audit", "-H", "127.0.0.1", "-p", "0"], until: "Schema:")
        defer { if p.isRunning { p.terminate() } }
        #expect(banner.contains("\n  Audit:        enabled (tiers: admin; maxEntries: 10000)\n"), "\(banner)")
        let c = try WireStoreClient(port: try #require(boundPort(in: banner), "\(banner)"))
        #expect(c.ask(["type": "server.stats"])["type"] == "result")
        #expect(c.data(["type": "audit.query"])["entries"]?.arrayValue?.map { $0["operation"] } == ["server.stats"])
        p.terminate()
        p.waitUntilExit()
    }

    @Test func aHostNameIsResolved() throws {
        let (p, banner, _) = try start(["-H", "localhost", "-p", "0"], until: "Schema:")
        defer { if p.isRunning { p.terminate() } }
        #expect(banner.contains("URL:          ws://localhost:"), "\(banner)")
        let port = try #require(boundPort(in: banner), "\(banner)")
        let c = try #require(WebSocketTestClient(port: port), "localhost is bound to 127.0.0.1")
        #expect(c.nextText()?.contains("\"welcome\"") == true)
        p.terminate()
        p.waitUntilExit()
    }

    @Test func unresolvableHostAndBusyPortSayWhatToDo() throws {
        let bad = try run(["-H", "no-such-host.invalid", "-p", "0"])
        #expect(bad.status == 1)
        #expect(bad.err.hasPrefix("Error: cannot listen on no-such-host.invalid:0: EAI_"), "\(bad.err)")
        #expect(bad.err.hasSuffix("; the host name \"no-such-host.invalid\" does not resolve; give an IP address such as 127.0.0.1 or 0.0.0.0, or a name from /etc/hosts\n"), "\(bad.err)")

        let (p, banner, _) = try start(["-H", "127.0.0.1", "-p", "0"], until: "Schema:")
        defer { if p.isRunning { p.terminate() } }
        let port = try #require(boundPort(in: banner))
        for args in [["-H", "127.0.0.1", "-p", String(port)], ["--echo", "-H", "127.0.0.1", "-p", String(port)]] {
            let busy = try run(args)
            #expect(busy.status == 1)
            #expect(busy.err == "Error: cannot listen on 127.0.0.1:\(port): EADDRINUSE: address already in use; another process already listens on port \(port); stop it, or choose another port (-p, or -p 0 for a free one)\n", "\(busy.err)")
        }
        p.terminate()
        p.waitUntilExit()
    }

    /// IPv6 literals are bracketed wherever a port follows them. Needs a `::1` loopback (the
    /// test machines have one; without it the start error is recorded as the failure).
    @Test func ipv6AddressesAreBracketed() throws {
        let (p, banner, err) = try start(["-H", "::1", "-p", "0"], until: "Schema:")
        defer { if p.isRunning { p.terminate() } }
        #expect(banner.contains("URL:          ws://[::1]:"), "\(banner) \(String(decoding: err.fileHandleForReading.availableData, as: UTF8.self))")
        p.terminate()
        p.waitUntilExit()
        let (e, line, _) = try start(["--echo", "-H", "::1", "-p", "0"], until: "listening on")
        defer { if e.isRunning { e.terminate() } }
        #expect(line.hasPrefix("listening on [::1]:") && boundPort(in: line) != nil, "\(line)")
        e.terminate()
        e.waitUntilExit()
    }
}
