import Histogram

/// The figures of one echo run, and the lines `loadgen` prints for them.
public struct EchoReport {
    /// Latencies in nanoseconds; 60 s is far beyond any bounded run's round trip.
    public var latencies = Histogram<UInt64>(
        highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    public var answers: UInt64 = 0
    public var wrongAnswers: UInt64 = 0
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

    /// One `name: value` line per figure; latencies in microseconds with one decimal.
    public func lines(prefix: String) -> [String] {
        func us(_ percentile: Double) -> String {
            let ns = answers == 0 ? 0 : latencies.valueAtPercentile(percentile)
            let tenths = (ns + 50) / 100
            return "\(tenths / 10).\(tenths % 10)"
        }
        var lines = [
            "\(prefix)echo.msgs_per_s: \(Int(messagesPerSecond.rounded()))",
            "\(prefix)echo.p50_us: \(us(50))",
            "\(prefix)echo.p99_us: \(us(99))",
            "\(prefix)echo.p999_us: \(us(99.9))",
            "\(prefix)echo.messages: \(answers)",
            "\(prefix)echo.errors: \(wrongAnswers)",
        ]
        // CPU per message does not depend on how much CPU the process was given, so it stays
        // comparable on a busy machine where msgs/s does not.
        if let cpu = serverCPUNanoseconds, answers > 0 {
            lines.append("\(prefix)echo.server_cpu_us_per_msg: \(Self.microseconds(cpu, per: answers))")
        }
        if let cpu = clientCPUNanoseconds, answers > 0 {
            lines.append("\(prefix)echo.client_cpu_us_per_msg: \(Self.microseconds(cpu, per: answers))")
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
