import Histogram

/// The figures of one echo run, and the lines `loadgen` prints for them.
public struct EchoReport {
    /// Latencies in nanoseconds; 60 s is far beyond any bounded run's round trip.
    public var latencies = Histogram<UInt64>(
        highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    public var answers: UInt64 = 0
    public var wrongAnswers: UInt64 = 0
    /// Fan-out runs: subscription pushes received in the measured window.
    public var pushes: UInt64 = 0
    public var elapsedNanoseconds: UInt64 = 0
    /// CPU time (user + system) the client spent in the measured window, if sampled.
    public var clientCPUNanoseconds: UInt64?
    /// CPU time the server process spent in the measured window, if sampled.
    public var serverCPUNanoseconds: UInt64?

    public init() {}

    public mutating func record(latencyNanoseconds: UInt64) {
        answers += 1
        latencies.record(min(latencyNanoseconds, latencies.highestTrackableValue))
    }

    public var messagesPerSecond: Double {
        elapsedNanoseconds == 0 ? 0 : Double(answers) * 1e9 / Double(elapsedNanoseconds)
    }

    /// How the figures of one kind of run are named: `<prefix><name>.<rate>`, ...
    public struct Naming: Sendable {
        public var name: String
        public var rate: String
        public var count: String
        public var unit: String
        public init(name: String, rate: String, count: String, unit: String) {
            self.name = name
            self.rate = rate
            self.count = count
            self.unit = unit
        }
        /// `echo.msgs_per_s`, `echo.messages`, `echo.server_cpu_us_per_msg`.
        public static let echo = Naming(name: "echo", rate: "msgs_per_s", count: "messages", unit: "msg")
        /// `proto.<operation>.req_per_s`, `.requests`, `.server_cpu_us_per_req`.
        public static func proto(_ operation: String) -> Naming {
            Naming(name: "proto.\(operation)", rate: "req_per_s", count: "requests", unit: "req")
        }
    }

    /// Latency at `percentile` in microseconds with one decimal.
    func us(_ percentile: Double) -> String {
        let ns = latencies.totalCount == 0 ? 0 : latencies.valueAtPercentile(percentile)
        let tenths = (ns + 50) / 100
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// One `name: value` line per figure; latencies in microseconds with one decimal.
    public func lines(prefix: String, naming: Naming = .echo) -> [String] {
        let p = prefix + naming.name + "."
        var lines = [
            "\(p)\(naming.rate): \(Int(messagesPerSecond.rounded()))",
            "\(p)p50_us: \(us(50))",
            "\(p)p99_us: \(us(99))",
            "\(p)p999_us: \(us(99.9))",
            "\(p)\(naming.count): \(answers)",
            "\(p)errors: \(wrongAnswers)",
        ]
        // CPU per message does not depend on how much CPU the process was given, so it stays
        // comparable on a busy machine where msgs/s does not.
        if let cpu = serverCPUNanoseconds, answers > 0 {
            lines.append("\(p)server_cpu_us_per_\(naming.unit): \(Self.microseconds(cpu, per: answers))")
        }
        if let cpu = clientCPUNanoseconds, answers > 0 {
            lines.append("\(p)client_cpu_us_per_\(naming.unit): \(Self.microseconds(cpu, per: answers))")
        }
        return lines
    }

    /// Fan-out figures: `latencies` hold insert-to-last-push times, `answers` the inserts whose
    /// M pushes all arrived, `pushes` every push received.
    public func fanoutLines(prefix: String, subscribers: Int) -> [String] {
        let p = prefix + "fanout."
        let perSecond = elapsedNanoseconds == 0 ? 0 : Double(pushes) * 1e9 / Double(elapsedNanoseconds)
        var lines = [
            "\(p)subscribers: \(subscribers)",
            "\(p)pushes_per_s: \(Int(perSecond.rounded()))",
            "\(p)insert_to_last_push_p50_us: \(us(50))",
            "\(p)insert_to_last_push_p99_us: \(us(99))",
            "\(p)inserts: \(answers)",
            "\(p)pushes: \(pushes)",
            "\(p)errors: \(wrongAnswers)",
        ]
        if let cpu = serverCPUNanoseconds, pushes > 0 {
            lines.append("\(p)server_cpu_us_per_push: \(Self.microseconds(cpu, per: pushes))")
        }
        if let cpu = clientCPUNanoseconds, pushes > 0 {
            lines.append("\(p)client_cpu_us_per_push: \(Self.microseconds(cpu, per: pushes))")
        }
        return lines
    }

    /// `total` nanoseconds per `count`, in microseconds with three decimals.
    static func microseconds(_ total: UInt64, per count: UInt64) -> String {
        let thousandths = (total + count / 2) / count  // nanoseconds = thousandths of a µs
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
