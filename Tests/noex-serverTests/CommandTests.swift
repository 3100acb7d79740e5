import ArgumentParser
import NoexJSON
import NoexServer
import Testing
@testable import noex_server

/// The `noex-server` command line (swift-argument-parser): names, both value forms, defaults,
/// validation messages, and that `--help` explains every flag.
@Suite struct CommandTests {
    private func options(_ args: [String]) throws -> CommandLineOptions {
        try NoexServerCommand.parse(args).options
    }

    /// The parse or validation error text for these arguments (nil when they parse).
    private func error(_ args: [String]) -> String? {
        do {
            _ = try NoexServerCommand.parse(args)
            return nil
        } catch {
            #expect(NoexServerCommand.exitCode(for: error) != .success)
            return NoexServerCommand.message(for: error)
        }
    }

    @Test func noArgumentsMeansDefaults() throws {
        #expect(try options([]) == CommandLineOptions())
        let plan = try LaunchPlan.resolve(try options([]), file: nil)
        #expect(plan.server.port == 8080 && plan.server.host == "0.0.0.0" && plan.rulesEnabled && plan.usesDemoSchema)
    }

    @Test func everyFlagInBothForms() throws {
        let all = [
            "-p", "9001", "-H", "127.0.0.1", "-c", "conf.json", "--name", "n", "--persistence", "memory",
            "--data-dir", "d", "--db", "x.db", "--fsync", "always", "--auth", "--admin-secret", "s", "--no-rules", "--audit",
            "--no-error-details", "--allowed-origins", "a, b ,c", "--max-connections-per-ip", "3", "--echo",
            "--max-payload-bytes", "2048", "--no-try-write", "--shutdown-grace-period-ms", "1500",
        ]
        var expected = CommandLineOptions()
        expected.port = 9001
        expected.host = "127.0.0.1"
        expected.configPath = "conf.json"
        expected.name = "n"
        expected.persistence = "memory"
        expected.dataDir = "d"
        expected.db = "x.db"
        expected.fsync = "always"
        expected.auth = true
        expected.adminSecret = "s"
        expected.noRules = true
        expected.audit = true
        expected.noErrorDetails = true
        expected.allowedOrigins = ["a", "b", "c"]
        expected.maxConnectionsPerIp = 3
        expected.echo = true
        expected.maxPayloadBytes = 2048
        expected.noTryWrite = true
        expected.shutdownGracePeriodMs = 1500
        #expect(try options(all) == expected)
        let inline = [
            "--port=9001", "--host=127.0.0.1", "--config=conf.json", "--name=n", "--persistence=memory",
            "--data-dir=d", "--db=x.db", "--fsync=always", "--auth", "--admin-secret=s", "--no-rules", "--audit", "--no-error-details",
            "--allowed-origins=a, b ,c", "--max-connections-per-ip=3", "--echo", "--max-payload-bytes=2048", "--no-try-write",
            "--shutdown-grace-period-ms=1500",
        ]
        #expect(try options(inline) == expected)
        #expect(try options(["--port", "1", "--port=2"]).port == 2)  // the last one wins
        #expect(try options(["--allowed-origins", "x,,y"]).allowedOrigins == ["x", "", "y"])
    }

    @Test func badValuesAreClearErrors() {
        #expect(error(["-p", "70000"]) == "Invalid port: 70000 (must be integer 0-65535)")
        // A negative number is the option's value (a bad port), not a flag after a missing value.
        #expect(error(["-p", "-1"]) == "Invalid port: -1 (must be integer 0-65535)")
        #expect(error(["--max-connections-per-ip", "-2"]) == "Invalid --max-connections-per-ip: -2 (must be a positive integer no larger than 1000000000)")
        #expect(error(["--port=-1"]) != nil)
        #expect(error(["-p", "eighty"])?.contains("eighty") == true)
        #expect(error(["--max-payload-bytes", "0"]) == "Invalid --max-payload-bytes: 0 (must be a positive integer no larger than 1073741824)")
        #expect(error(["--max-payload-bytes", "1073741825"]) == "Invalid --max-payload-bytes: 1073741825 (must be a positive integer no larger than 1073741824)")
        #expect(error(["--max-connections-per-ip", "0"]) == "Invalid --max-connections-per-ip: 0 (must be a positive integer no larger than 1000000000)")
        #expect(error(["--max-connections-per-ip", "1000000001"]) == "Invalid --max-connections-per-ip: 1000000001 (must be a positive integer no larger than 1000000000)")
        #expect(error(["--max-connections-per-ip", "x"])?.contains("'x'") == true)
        #expect(error(["--persistence", "disk"])?.contains("'memory', 'file'") == true)
        #expect(error(["--frob"])?.hasPrefix("Unknown option '--frob'") == true)
        #expect(error(["--port"])?.contains("--port") == true)
        #expect(error(["extra"])?.contains("extra") == true)
        #expect(error(["--no-rules=yes"]) != nil)
        #expect(error(["-p", "0"]) == nil && error(["-p", "65535"]) == nil)
        #expect(error(["--shutdown-grace-period-ms", "300001"])
            == "Invalid --shutdown-grace-period-ms: 300001 (must be an integer 0-300000)")
        #expect(error(["--shutdown-grace-period-ms=-1"]) != nil)
        #expect(error(["--shutdown-grace-period-ms", "0"]) == nil && error(["--shutdown-grace-period-ms", "300000"]) == nil)
    }

    @Test func monitoringFlags() throws {
        for args in [["--metrics-path", "/m", "--health-path", "/h", "--no-metrics", "--no-health"],
                     ["--metrics-path=/m", "--health-path=/h", "--no-metrics", "--no-health"]] {
            let o = try options(args)
            #expect(o.metricsPath == "/m" && o.healthPath == "/h" && o.noMetrics && o.noHealth)
        }
        let plan = try LaunchPlan.resolve(try options(["--metrics-path", "/ops/metrics", "--no-health"]), file: nil)
        #expect(plan.server.monitoring == MonitoringConfig(metricsPath: "/ops/metrics", healthPath: nil))
        #expect(throws: CommandLineError("invalid metrics path \"m\": it must start with \"/\"")) {
            try LaunchPlan.resolve(try options(["--metrics-path", "m"]), file: nil)
        }
    }

    @Test func helpAndVersion() throws {
        let help = NoexServerCommand.helpMessage(includeHidden: false, columns: 200)
        for flag in ["-p, --port <port>", "-H, --host <host>", "-c, --config <path>", "--name <name>",
                     "--persistence <persistence>", "--data-dir <path>", "--db <path>", "--fsync <fsync>", "--auth", "--admin-secret <secret>",
                     "--no-rules", "--audit", "--no-error-details", "--allowed-origins <list>",
                     "--max-connections-per-ip <n>", "--max-payload-bytes <n>", "--echo", "--no-try-write",
                     "--shutdown-grace-period-ms <ms>",
                     "--metrics-path <path>", "--no-metrics", "--health-path <path>", "--no-health",
                     "--compression", "--cluster <url>",
                     "-v, --version", "-h, --help"] {
            #expect(help.contains(flag), "help lacks \(flag)")
        }
        // Every argument is shown and carries an explanation (at least "Show help information."), not just its name.
        let info = try JSON.parse(Array(NoexServerCommand._dumpHelp().utf8))
        let arguments = try #require(info["command"]?["arguments"]?.arrayValue)
        let shown = arguments.filter { $0["shouldDisplay"] != false }
        #expect(shown.count == 27)  // 25 flags + version + help
        #expect(try LaunchPlan.resolve(try options(["--compression"]), file: nil).server.compression != nil)
        for argument in shown {
            let abstract = argument["abstract"]?.stringValue ?? ""
            #expect(abstract.split(separator: " ").count >= 3, "no help text: \(argument)")
        }
        #expect(throws: Never.self) { _ = try NoexServerCommand.parse(["-v"]) }
        #expect(try NoexServerCommand.parse(["--version"]).version)
        #expect(try NoexServerCommand.parse(["-v", "-p", "70000"]).version)  // the version wins over validation
        #expect(NoexServerCommand.exitCode(for: CleanExit.helpRequest()) == .success)
        do {
            _ = try NoexServerCommand.parse(["--port", "1", "-h"])
            Issue.record("-h did not ask for help")
        } catch {
            #expect(NoexServerCommand.exitCode(for: error) == .success)
        }
    }
}
