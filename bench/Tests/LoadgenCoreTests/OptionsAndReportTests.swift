import Testing
@testable import LoadgenCore

@Suite struct OptionsTests {
    @Test func defaultsAndFlags() throws {
        let defaults = try LoadgenOptions.parse([])
        #expect(defaults.mode == .echo && defaults.host == "127.0.0.1" && defaults.connections == 100)
        #expect(defaults.inflight == 10 && defaults.size == 20 && defaults.path == "/" && defaults.prefix == "")
        let o = try LoadgenOptions.parse([
            "--host", "::1", "--port", "9002", "--connections", "1000", "--inflight", "1", "--size", "64",
            "--seconds", "3", "--warmup", "0.5", "--path", "/ws", "--label", "noex",
        ])
        #expect(o.host == "::1" && o.address == "::1" && o.port == 9002 && o.connections == 1000)
        #expect(o.inflight == 1 && o.size == 64 && o.seconds == 3 && o.warmup == 0.5 && o.path == "/ws")
        #expect(o.prefix == "noex.")
        #expect(try LoadgenOptions.parse(["--host", "localhost"]).address == "127.0.0.1")
    }

    @Test func idleModeHoldsFiveSecondsUnlessTold() throws {
        #expect(try LoadgenOptions.parse(["--mode", "idle"]).seconds == 5)
        #expect(try LoadgenOptions.parse(["--mode", "idle", "--seconds", "2"]).seconds == 2)
    }

    @Test func refusesNonLoopbackHosts() {
        for host in ["10.0.0.1", "0.0.0.0", "example.com", "127.0.0.2", ""] {
            #expect(throws: OptionsError.nonLoopbackHost(host)) { try LoadgenOptions.parse(["--host", host]) }
        }
    }

    @Test func rejectsBadValuesAndUnknownFlags() {
        #expect(throws: OptionsError.invalidValue("--port", "0", expected: "an integer from 1 to 65535")) { try LoadgenOptions.parse(["--port", "0"]) }
        #expect(throws: OptionsError.invalidValue("--connections", "x", expected: "an integer from 1 to 1000000")) { try LoadgenOptions.parse(["--connections", "x"]) }
        #expect(throws: OptionsError.invalidValue("--mode", "flood", expected: "echo, idle, proto or fanout")) { try LoadgenOptions.parse(["--mode", "flood"]) }
        #expect(throws: OptionsError.invalidValue("--path", "ws", expected: "a path starting with / and without spaces")) { try LoadgenOptions.parse(["--path", "ws"]) }
        #expect(throws: OptionsError.missingValue("--port")) { try LoadgenOptions.parse(["--port"]) }
        #expect(throws: OptionsError.unknownFlag("--threads")) { try LoadgenOptions.parse(["--threads", "4"]) }
        // Each message says what the value must be, or where to look.
        #expect("\(OptionsError.invalidValue("--port", "0", expected: "an integer from 1 to 65535"))"
                == "invalid value for --port: 0 (expected an integer from 1 to 65535)")
        #expect("\(OptionsError.unknownFlag("--threads"))" == "unknown flag --threads (loadgen --help lists the flags)")
        #expect("\(OptionsError.nonLoopbackHost("10.0.0.1"))".hasSuffix("use 127.0.0.1, ::1 or localhost)"))
        #expect(throws: OptionsError.help) { try LoadgenOptions.parse(["--help"]) }
    }
}

@Suite struct GeneratorAndReportTests {
    @Test func echoGeneratorSendsSizedTextAndChecksTheEcho() {
        var generator = EchoGenerator(size: 20)
        var sent: [UInt8] = []
        generator.withRequest(sequence: 0) { sent = Array($0) }
        #expect(sent.count == 20 && generator.opcode == .text)
        #expect(String(validating: sent, as: UTF8.self) != nil)
        sent.withUnsafeBytes { #expect(generator.classify(opcode: .text, payload: $0) == .answer) }
        sent.withUnsafeBytes { #expect(generator.classify(opcode: .binary, payload: $0) == .wrongAnswer) }
        var altered = sent
        altered[19] ^= 1
        altered.withUnsafeBytes { #expect(generator.classify(opcode: .text, payload: $0) == .wrongAnswer) }
        Array(sent.prefix(19)).withUnsafeBytes { #expect(generator.classify(opcode: .text, payload: $0) == .wrongAnswer) }
        [UInt8]().withUnsafeBytes { #expect(EchoGenerator(size: 0).classify(opcode: .text, payload: $0) == .answer) }
    }

    @Test func timestampRingIsFifoAndBounded() {
        var ring = TimestampRing(capacity: 3)
        #expect(ring.capacity == 4)
        for v in 1...4 {
            let pushed = ring.push(UInt64(v))
            #expect(pushed)
        }
        let overflow = ring.push(5)
        #expect(!overflow)
        #expect(ring.pop() == 1)
        let refilled = ring.push(6)
        #expect(refilled)
        #expect([ring.pop(), ring.pop(), ring.pop(), ring.pop(), ring.pop()] == [2, 3, 4, 6, nil])
    }

    @Test func reportLinesCarryThePrefixAndMicroseconds() {
        var report = EchoReport()
        for i in 1...1000 { report.record(latencyNanoseconds: UInt64(i) * 1000) }  // 1..1000 µs
        report.wrongAnswers = 2
        report.elapsedNanoseconds = 500_000_000
        let lines = report.lines(prefix: "noex.")
        #expect(lines[0] == "noex.echo.msgs_per_s: 2000")
        #expect(lines[1].hasPrefix("noex.echo.p50_us: 500."))
        #expect(lines[2].hasPrefix("noex.echo.p99_us: 990."))
        #expect(lines[3].hasPrefix("noex.echo.p999_us: 999."))
        #expect(lines[4] == "noex.echo.messages: 1000")
        #expect(lines[5] == "noex.echo.errors: 2")
        #expect(EchoReport().lines(prefix: "").first == "echo.msgs_per_s: 0")
    }
}

@Suite struct CPUFigureTests {
    @Test func procStatTicksSkipTheCommandName() {
        let line = "4242 (my (odd) server) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 3 0 100 1000 200"
        #expect(ProcessCPU.ticks(statLine: line) == 325)
        #expect(ProcessCPU.ticks(statLine: "garbage") == nil)
        #expect(ProcessCPU.ticks(statLine: "1 (x) S 1 2") == nil)
    }

    @Test func cpuPerMessageLinesAppearOnlyWhenSampled() {
        var report = EchoReport()
        report.record(latencyNanoseconds: 1000)
        report.record(latencyNanoseconds: 1000)
        report.elapsedNanoseconds = 1_000_000_000
        #expect(report.lines(prefix: "").count == 6)
        report.serverCPUNanoseconds = 3_001
        report.clientCPUNanoseconds = 10_000_000
        let lines = report.lines(prefix: "x.")
        #expect(lines.contains("x.echo.server_cpu_us_per_msg: 1.501"))
        #expect(lines.contains("x.echo.client_cpu_us_per_msg: 5000.000"))
        #expect(EchoReport.microseconds(5, per: 1) == "0.005")
    }

    @Test func serverPIDOption() throws {
        #expect(try LoadgenOptions.parse(["--server-pid", "123"]).serverPID == 123)
        #expect(try LoadgenOptions.parse([]).serverPID == nil)
        #expect(throws: OptionsError.invalidValue("--server-pid", "-1", expected: "an integer from 1 to 2147483647")) { try LoadgenOptions.parse(["--server-pid", "-1"]) }
    }
}
