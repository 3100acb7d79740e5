/// The `noex-server` command line (server.md §11.2), parsed without touching the process, so
/// the binary stays a thin shell and every rule here is unit-tested.
public struct CommandLineOptions: Equatable, Sendable {
    /// What the invocation asks for.
    public enum Command: Equatable, Sendable {
        case run(CommandLineOptions)
        case help
        case version
    }

    public var port: String?
    public var host: String?
    public var configPath: String?
    public var name: String?
    public var persistence: String?
    public var dataDir: String?
    public var db: String?
    public var auth = false
    public var adminSecret: String?
    public var noRules = false
    public var audit = false
    public var noErrorDetails = false
    public var allowedOrigins: [String]?
    public var maxConnectionsPerIp: String?
    /// Transport smoke mode: echo every text frame back, no protocol.
    public var echo = false
    /// Largest accepted message (both modes; the config file's `maxPayloadBytes` otherwise).
    public var maxPayloadBytes: String?
    /// Benchmarking knob: always queue `uv_write` instead of trying `uv_try_write` first.
    public var noTryWrite = false

    public init() {}

    /// Parses `arguments` (without the program name). Accepts `--flag value` and `--flag=value`.
    public static func parse(_ arguments: [String]) throws(CommandLineError) -> Command {
        var o = CommandLineOptions()
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            var name = arg
            var inlineValue: String?
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
                name = String(arg[..<eq])
                inlineValue = String(arg[arg.index(after: eq)...])
            }
            func value() throws(CommandLineError) -> String {
                if let inlineValue { return inlineValue }
                guard i < arguments.count, !arguments[i].hasPrefix("-") || Int(arguments[i]) != nil else {
                    throw CommandLineError("Option '\(name)' argument missing")
                }
                defer { i += 1 }
                return arguments[i]
            }
            func flag() throws(CommandLineError) {
                if inlineValue != nil { throw CommandLineError("Option '\(name)' does not take an argument") }
            }
            switch name {
            case "-h", "--help": return .help
            case "-v", "--version": return .version
            case "-p", "--port": o.port = try value()
            case "-H", "--host": o.host = try value()
            case "-c", "--config": o.configPath = try value()
            case "--name": o.name = try value()
            case "--persistence": o.persistence = try value()
            case "--data-dir": o.dataDir = try value()
            case "--db": o.db = try value()
            case "--auth": try flag(); o.auth = true
            case "--admin-secret": o.adminSecret = try value()
            case "--no-rules": try flag(); o.noRules = true
            case "--audit": try flag(); o.audit = true
            case "--no-error-details": try flag(); o.noErrorDetails = true
            case "--allowed-origins":
                o.allowedOrigins = try value().split(separator: ",", omittingEmptySubsequences: false)
                    .map { $0.trimmingSpaces() }
            case "--max-connections-per-ip": o.maxConnectionsPerIp = try value()
            case "--echo": try flag(); o.echo = true
            case "--max-payload-bytes": o.maxPayloadBytes = try value()
            case "--no-try-write": try flag(); o.noTryWrite = true
            default:
                if arg.hasPrefix("-") { throw CommandLineError("Unknown option '\(name)'") }
                throw CommandLineError("Unexpected argument '\(arg)'. This command does not take positional arguments")
            }
        }
        return .run(o)
    }

    public static let version = "noex-server v0.1.0"

    public static let help = """
        noex-server — JSON-over-WebSocket server for the noex store and rule engine

        Usage: noex-server [options]

        Options:
          -p, --port <port>              Port to listen on (default: 8080)
          -H, --host <host>              Host to bind (default: 0.0.0.0)
          -c, --config <path>            JSON config file (see docs/config.md)
              --name <name>              Server name (default: noex-server)
              --persistence <type>       memory | file | sqlite (default: memory; only memory is supported yet)
              --data-dir <path>          Data directory for file persistence (default: ./data)
              --db <path>                SQLite database file (default: ./noex.db)
              --auth                     Enable built-in identity (not yet supported)
              --admin-secret <secret>    Admin secret for built-in identity
              --no-rules                 Disable the rule engine
              --audit                    Enable the audit log (not yet supported)
              --no-error-details         Hide error details from clients
              --allowed-origins <list>   Comma-separated list of allowed Origin headers
              --max-connections-per-ip <n>  Per-IP connection limit
              --max-payload-bytes <n>    Largest accepted message (default: 1048576; echo: 64 MiB)
              --echo                     Transport check: echo every text frame, no protocol
          -h, --help                     Show this help
          -v, --version                  Show the version

        Without a config file the server starts with a small demo schema (buckets users,
        products, orders, logs; queries all-users, users-by-role, user-count).
        """
}

/// A command-line problem; printed as `Error: <message>` with a pointer to `--help`, exit 1.
public struct CommandLineError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self[...]
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
