// The `noex-server` executable's command line, on swift-argument-parser: every flag of the
// original (docs/config.md) plus our extensions, each with its help text. Parsing and value
// checks end here; the result is a plain `CommandLineOptions` that `LaunchPlan` combines with the
// config file (see Launch.swift).
import ArgumentParser
import NoexServer

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The persistence types the original knows; `file` is not supported yet (LaunchPlan refuses it
/// with a clear message).
enum PersistenceType: String, CaseIterable, ExpressibleByArgument {
    case memory, file, sqlite
}

/// `--fsync` values (docs/persistence.md).
enum FsyncType: String, CaseIterable, ExpressibleByArgument {
    case always, everysec, no
}

@main
struct NoexServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noex-server",
        abstract: "JSON-over-WebSocket server for the noex store and rule engine.",
        discussion: """
            Flags override the config file (-c), which overrides the defaults; both --flag value \
            and --flag=value work. Without a config file the server starts with a small demo \
            schema (buckets users, products, orders, logs; queries all-users, users-by-role, \
            user-count). SIGINT/SIGTERM stop the server. Config file keys: docs/config.md.
            """)

    // `.unconditional`: `-p -1` is a (bad) port, not a missing value followed by a flag `-1`.
    @Option(name: [.short, .long], parsing: .unconditional,
            help: "Port to listen on, 0-65535; 0 picks a free port, shown in the banner. (default: 8080)")
    var port: Int?

    @Option(name: [.customShort("H"), .long],
            help: "Address to bind. (default: 0.0.0.0; with --echo 127.0.0.1)")
    var host: String?

    @Option(name: [.short, .long], help: ArgumentHelp(
        "JSON config file; its keys are listed in docs/config.md. Without it the demo schema is used.",
        valueName: "path"))
    var config: String?

    @Option(help: "Server and store name, reported by server.stats. (default: noex-server)")
    var name: String?

    @Option(help: "Where records live: memory, sqlite (durable: a reply leaves after its write is committed), or file (snapshots of each changed bucket every 100 ms; a crash can lose the last ~100 ms), see docs/persistence.md. (default: memory)")
    var persistence: PersistenceType?

    @Option(help: ArgumentHelp("Data directory of --persistence file, created when missing. (default: ./data)",
                               valueName: "path"))
    var dataDir: String?

    @Option(help: ArgumentHelp("SQLite database file of --persistence sqlite, created when missing. (default: ./noex.db)",
                               valueName: "path"))
    var db: String?

    @Option(help: "When commits reach the disk: always (before each reply), everysec (once a second; survives a crash of the process), no (the OS decides); file persistence fsyncs every snapshot unless no. (default: everysec)")
    var fsync: FsyncType?

    @Flag(help: "Enable the built-in identity: users, roles, ACL and sessions in system buckets, persisted by --persistence; log in with identity.login or, as the virtual superadmin, identity.loginWithSecret. Needs --admin-secret (or \"adminSecret\" in the config file).")
    var auth = false

    @Option(help: ArgumentHelp("Admin secret of the built-in identity (identity.loginWithSecret); required with --auth. Wins over the file's \"auth.adminSecret\" and \"adminSecret\".", valueName: "secret"))
    var adminSecret: String?

    @Flag(name: .customLong("no-rules"), help: "Disable the rule engine (rules.* answer RULES_NOT_AVAILABLE). Wins over the file's \"rules\".")
    var noRules = false

    @Flag(help: "Enable the audit log with its defaults (admin-tier requests, 10000 entries; kept across restarts with --persistence). The config file's \"audit\": {\"tiers\", \"maxEntries\"} sets both; audit.query reads it.")
    var audit = false

    @Flag(name: .customLong("no-error-details"),
          help: "Hide error details from clients (exposeErrorDetails: false); messages are kept.")
    var noErrorDetails = false

    @Option(help: ArgumentHelp(
        "Comma-separated Origin headers allowed to connect (others get HTTP 403); replaces the file's allowedOrigins. (default: any)",
        valueName: "list"))
    var allowedOrigins: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Connections allowed per client address; more are closed with 4003. (default: unlimited)",
                               valueName: "n"))
    var maxConnectionsPerIp: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Largest accepted message in bytes; larger ones close the connection with 1009. (default: 1048576; with --echo 64 MiB)",
                               valueName: "n"))
    var maxPayloadBytes: Int?

    @Option(help: ArgumentHelp(
        "On SIGINT/SIGTERM clients get a shutdown message and keep working this long, then are closed with 1001; 0 closes at once. At most 300000. (default: 5000)",
        valueName: "ms"))
    var shutdownGracePeriodMs: Int64?

    @Flag(help: "Transport check: run a plain WebSocket echo server (no protocol) and print 'listening on HOST:PORT'.")
    var echo = false

    @Flag(name: .customLong("no-try-write"),
          help: "Benchmarking knob of --echo: every write waits for the socket's writable event instead of being sent at once.")
    var noTryWrite = false

    @Option(help: ArgumentHelp("Path of the Prometheus metrics endpoint on the listening port (docs/metrics.md). (default: /metrics)",
                               valueName: "path"))
    var metricsPath: String?

    @Flag(name: .customLong("no-metrics"), help: "Turn the GET /metrics endpoint off.")
    var noMetrics = false

    @Option(help: ArgumentHelp("Path of the health endpoint on the listening port (docs/metrics.md). (default: /health)",
                               valueName: "path"))
    var healthPath: String?

    @Flag(name: .customLong("no-health"), help: "Turn the GET /health endpoint off.")
    var noHealth = false

    @Flag(help: "Negotiate permessage-deflate (RFC 7692) with clients that offer it, also with --echo: messages of 1024 bytes or more are compressed, each on its own; tune with the config file's \"compression\" key (docs/transport.md). (default: off)")
    var compression = false

    @Option(help: ArgumentHelp("Join a cluster: every store write goes through the ordered log in this Redis (redis://HOST:PORT) and every node applies it; needs --name, the same on every node of the cluster (docs/cluster.md). (default: a single server)",
                               valueName: "url"))
    var cluster: String?

    @Flag(name: [.customShort("v"), .long], help: "Print the version (\(CommandLineOptions.version)) and exit.")
    var version = false

    /// Range checks ArgumentParser's types cannot express; messages as the original's.
    func validate() throws {
        if version { return }
        if let g = shutdownGracePeriodMs, !(0...ServerConfig.maxShutdownGracePeriodMs).contains(g) {
            throw ValidationError("Invalid --shutdown-grace-period-ms: \(g) (must be an integer 0-\(ServerConfig.maxShutdownGracePeriodMs))")
        }
        if let port, !(0...65535).contains(port) {
            throw ValidationError("Invalid port: \(port) (must be integer 0-65535)")
        }
        if let maxPayloadBytes, !(1...Int(ConfigBounds.bytes)).contains(maxPayloadBytes) {
            throw ValidationError(
                "Invalid --max-payload-bytes: \(maxPayloadBytes) (must be a positive integer no larger than \(ConfigBounds.bytes))")
        }
        if let maxConnectionsPerIp, !(1...Int(ConfigBounds.count)).contains(maxConnectionsPerIp) {
            throw ValidationError(
                "Invalid --max-connections-per-ip: \(maxConnectionsPerIp) (must be a positive integer no larger than \(ConfigBounds.count))")
        }
    }

    /// The parsed flags as the model `LaunchPlan` consumes.
    var options: CommandLineOptions {
        var o = CommandLineOptions()
        o.port = port
        o.host = host
        o.configPath = config
        o.name = name
        o.persistence = persistence?.rawValue
        o.dataDir = dataDir
        o.db = db
        o.fsync = fsync?.rawValue
        o.auth = auth
        o.adminSecret = adminSecret
        o.noRules = noRules
        o.audit = audit
        o.noErrorDetails = noErrorDetails
        o.allowedOrigins = allowedOrigins.map(Self.splitList)
        o.maxConnectionsPerIp = maxConnectionsPerIp
        o.echo = echo
        o.maxPayloadBytes = maxPayloadBytes
        o.noTryWrite = noTryWrite
        o.shutdownGracePeriodMs = shutdownGracePeriodMs
        o.metricsPath = metricsPath
        o.noMetrics = noMetrics
        o.healthPath = healthPath
        o.noHealth = noHealth
        o.compression = compression
        o.cluster = cluster
        return o
    }

    /// `a, b ,c` → `["a", "b", "c"]` (items trimmed of spaces and tabs, as the original).
    static func splitList(_ list: String) -> [String] {
        list.split(separator: ",", omittingEmptySubsequences: false).map { item in
            var s = item[...]
            while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
            while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
            return String(s)
        }
    }

    func run() throws {
        if version {
            print(CommandLineOptions.version)
            return
        }
        let status = launch(options)
        if status != 0 { throw ExitCode(status) }
    }

    /// Help goes to stdout with status 0 (ArgumentParser's own handling); any other parse or
    /// validation error is printed in the original's form — `Error: <message>` and a pointer to
    /// `--help` on stderr — with status 1.
    static func main() {
        let command: NoexServerCommand
        do {
            command = try parse()
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }
            fail(message(for: error), hint: true)
        }
        do {
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
