import NoexJSON

/// Duration strings of the original (`^\d+(ms|s|m|h|d|w|y)$`, docs/protocol/rule-format.md#actions).
enum Durations {
    /// What the validator accepts: a unit duration, or a pure digit string.
    static func isValidFormat(_ s: String) -> Bool { parse(s) != nil }

    /// Milliseconds for a duration string. The original's runtime rejects a bare digit string
    /// the validator accepted (`"100"`); here it means milliseconds (docs/rules.md divergence 5).
    static func parse(_ s: String) -> Int64? {
        let digits = s.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let n = Int64(digits) else { return nil }
        let unit: Int64
        switch s.dropFirst(digits.count) {
        case "", "ms": unit = 1
        case "s": unit = 1000
        case "m": unit = 60_000
        case "h": unit = 3_600_000
        case "d": unit = 86_400_000
        case "w": unit = 7 * 86_400_000
        case "y": unit = 365 * 86_400_000
        default: return nil
        }
        let (ms, overflow) = n.multipliedReportingOverflow(by: unit)
        return overflow ? nil : ms
    }

    /// A duration value from a rule or timer config: a number of ms or a duration string.
    static func milliseconds(_ value: JSON?) throws(EvaluationError) -> Int64 {
        switch value {
        case .int(let i)?: return i
        case .double(let d)? where d.isFinite && Swift.abs(d) < 9e15: return Int64(d.rounded(.up))
        case .string(let s)?:
            guard let ms = parse(s) else { throw EvaluationError("Invalid duration: \(s)") }
            return ms
        default:
            throw EvaluationError("Invalid duration: \(JSValue.string(value))")
        }
    }
}
