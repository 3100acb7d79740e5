/// What the `noex-server` command line asked for (docs/config.md), as plain values: `nil` / `false`
/// means "not given", so `LaunchPlan` can fall back to the config file and then the defaults.
///
/// The executable's `ParsableCommand` (swift-argument-parser) is the one parser that fills it; the
/// C API and tests build it directly.
public struct CommandLineOptions: Equatable, Sendable {
    public var port: Int?
    public var host: String?
    public var configPath: String?
    public var name: String?
    public var persistence: String?
    public var dataDir: String?
    public var db: String?
    /// `always`, `everysec` or `no` (sqlite persistence).
    public var fsync: String?
    public var auth = false
    public var adminSecret: String?
    public var noRules = false
    public var audit = false
    public var noErrorDetails = false
    public var allowedOrigins: [String]?
    public var maxConnectionsPerIp: Int?
    /// Transport smoke mode: echo every text frame back, no protocol.
    public var echo = false
    /// Largest accepted message (both modes; the config file's `maxPayloadBytes` otherwise).
    public var maxPayloadBytes: Int?
    /// Benchmarking knob: every write waits for the socket's writable event instead of being sent at once.
    public var noTryWrite = false
    /// Grace period of a stop by SIGINT/SIGTERM (the config file's `shutdownGracePeriodMs` otherwise).
    public var shutdownGracePeriodMs: Int64?
    /// `--metrics-path`: where `GET /metrics` is served.
    public var metricsPath: String?
    /// `--no-metrics`: turn `/metrics` off (wins over the path).
    public var noMetrics = false
    /// `--health-path`: where `GET /health` is served.
    public var healthPath: String?
    /// `--no-health`: turn `/health` off (wins over the path).
    public var noHealth = false
    /// `--compression`: negotiate permessage-deflate (both modes; the file's `compression` otherwise).
    public var compression = false
    /// `--cluster redis://HOST:PORT`: join the cluster named by `--name` (docs/cluster.md).
    public var cluster: String?

    public init() {}

    /// The original's hard-coded version line (`--version`, first banner line).
    public static let version = "noex-server v0.1.0"
}

/// A launch problem; printed as `Error: <message>`, exit 1.
public struct CommandLineError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
