/// The families `/metrics` serves, in registration order. Adding a metric is one call with a
/// closure that reads the current value when scraped, so components keep their own plain
/// counters and nothing is computed between scrapes:
///
/// ```swift
/// server.metrics.counter("noex_commits_total", help: "Durable commits.") { Double(engine.commits) }
/// server.metrics.family("noex_commit_seconds", type: .histogram, help: "Commit latency.") { out in
///     for (le, n) in engine.latencyBuckets { out.sample(suffix: "_bucket", labels: [("le", le)], n) }
///     out.sample(suffix: "_sum", engine.latencySum)
///     out.sample(suffix: "_count", engine.latencyCount)
/// }
/// ```
///
/// Loop-confined like the server: register and scrape on the loop thread.
public final class MetricsRegistry {
    /// Writes the samples of one family (its name is already fixed).
    public struct FamilyWriter {
        let name: String
        var writer: PrometheusTextWriter

        /// A sample named `name + suffix` (`_bucket`, `_sum`, `_count` for histograms).
        public mutating func sample(suffix: String = "", labels: [(String, String)] = [], _ value: Double) {
            writer.sample(name + suffix, labels: labels, value)
        }
    }

    private struct Family {
        let name: String
        let type: PrometheusTextWriter.MetricType
        let help: String
        let samples: (inout FamilyWriter) -> Void
    }

    private var families: [Family] = []

    public init() {}

    /// Registers a family whose samples `samples` writes at each scrape. Names are unique.
    public func family(_ name: String, type: PrometheusTextWriter.MetricType, help: String,
                       samples: @escaping (inout FamilyWriter) -> Void) {
        precondition(!families.contains { $0.name == name }, "metric \(name) registered twice")
        precondition(PrometheusTextWriter.isMetricName(name), "invalid metric name \(name)")
        precondition(type != .counter || name.hasSuffix("_total"), "counter \(name) must end in _total")
        families.append(Family(name: name, type: type, help: help, samples: samples))
    }

    /// A counter without labels (the name must end in `_total`).
    public func counter(_ name: String, help: String, value: @escaping () -> Double) {
        family(name, type: .counter, help: help) { $0.sample(value()) }
    }

    /// A gauge without labels.
    public func gauge(_ name: String, help: String, value: @escaping () -> Double) {
        family(name, type: .gauge, help: help) { $0.sample(value()) }
    }

    /// Names of the registered families, in order.
    public var names: [String] { families.map(\.name) }

    /// The exposition text of every family.
    public func render() -> String {
        var writer = PrometheusTextWriter()
        for f in families {
            writer.family(f.name, type: f.type, help: f.help)
            var out = FamilyWriter(name: f.name, writer: writer)
            writer = PrometheusTextWriter()  // hand the text over without a copy
            f.samples(&out)
            writer = out.writer
        }
        return writer.text
    }
}

@available(*, unavailable)
extension MetricsRegistry: Sendable {}
