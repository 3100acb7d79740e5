/// The plain HTTP endpoints on the listening port: Prometheus metrics and a health probe
/// (docs/metrics.md). Both are on by default; a nil path turns one off.
public struct MonitoringConfig: Sendable, Equatable {
    /// Where `GET /metrics` is served; nil = off.
    public var metricsPath: String? = "/metrics"
    /// Where `GET /health` is served; nil = off.
    public var healthPath: String? = "/health"

    public init(metricsPath: String? = "/metrics", healthPath: String? = "/health") {
        self.metricsPath = metricsPath
        self.healthPath = healthPath
    }

    /// What is wrong with these paths next to the WebSocket path, naming the fix; nil when
    /// they are fine.
    public func problem(webSocketPath: String) -> String? {
        for (what, path) in [("metrics", metricsPath), ("health", healthPath)] {
            guard let path else { continue }
            if let p = Self.pathProblem(path) { return "invalid \(what) path \"\(path)\": \(p)" }
            if path == webSocketPath {
                return "the \(what) path \"\(path)\" is the WebSocket path; choose another \(what) path or turn it off"
            }
        }
        if let m = metricsPath, m == healthPath {
            return "the metrics and health paths are both \"\(m)\"; give them different paths"
        }
        return nil
    }

    /// Why `path` cannot be compared with a request's path; nil when it can.
    static func pathProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return "it must start with \"/\"" }
        guard path.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }) else {
            return "it must be printable ASCII without spaces, \"?\" or \"#\""
        }
        return nil
    }
}
