import Histogram

/// The figures of one echo run, and the lines `loadgen` prints for them.
public struct EchoReport {
    /// Latencies in nanoseconds; 60 s is far beyond any bounded run's round trip.
    public var latencies = Histogram<UInt64>(
        highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    public var answers: UInt64 = 0
    public var wrongAnswers: UInt64 = 0
    public var elapsedNanoseconds: UInt64 = 0

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
        return [
            "\(prefix)echo.msgs_per_s: \(Int(messagesPerSecond.rounded()))",
            "\(prefix)echo.p50_us: \(us(50))",
            "\(prefix)echo.p99_us: \(us(99))",
            "\(prefix)echo.p999_us: \(us(99.9))",
            "\(prefix)echo.messages: \(answers)",
            "\(prefix)echo.errors: \(wrongAnswers)",
        ]
    }
}
