/// Writes the Prometheus text exposition format, version 0.0.4: per family a `# HELP` and a
/// `# TYPE` line, then its samples `name{label="value",...} value`, one per line.
///
/// Names are checked when written (a bad name is our bug, so it traps); label values and help
/// texts come from data (bucket names) and are escaped as the format requires.
public struct PrometheusTextWriter {
    /// The `# TYPE` of a family.
    public enum MetricType: String, Sendable {
        case counter, gauge, histogram, summary, untyped
    }

    /// What was written so far.
    public private(set) var text = ""

    public init() {}

    /// Starts a family. Counter names must end in `_total` (the format's convention).
    public mutating func family(_ name: String, type: MetricType, help: String) {
        precondition(Self.isMetricName(name), "invalid metric name \(name)")
        precondition(type != .counter || name.hasSuffix("_total"), "counter \(name) must end in _total")
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type.rawValue)\n"
    }

    /// One sample line.
    public mutating func sample(_ name: String, labels: [(String, String)] = [], _ value: Double) {
        precondition(Self.isMetricName(name), "invalid metric name \(name)")
        text += name
        if !labels.isEmpty {
            text += "{"
            for (i, (label, v)) in labels.enumerated() {
                precondition(Self.isLabelName(label), "invalid label name \(label)")
                text += (i == 0 ? "" : ",") + label + "=\"" + Self.escapeLabelValue(v) + "\""
            }
            text += "}"
        }
        text += " " + Self.format(value) + "\n"
    }

    /// Integral values without a fraction, others in Swift's shortest round-trip form (which
    /// Prometheus parses, exponents included); non-finite values as the format spells them.
    static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 9_007_199_254_740_992 { return String(Int64(v)) }
        return "\(v)"
    }

    /// `\` → `\\`, newline → `\n`.
    static func escapeHelp(_ s: String) -> String {
        guard s.contains(where: { $0 == "\\" || $0 == "\n" }) else { return s }
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    /// `\` → `\\`, `"` → `\"`, newline → `\n`.
    static func escapeLabelValue(_ s: String) -> String {
        guard s.contains(where: { $0 == "\\" || $0 == "\n" || $0 == "\"" }) else { return s }
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    static func isMetricName(_ s: String) -> Bool {
        guard let first = s.utf8.first, !isDigit(first) else { return false }
        return s.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") }
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with the reserved `__`.
    static func isLabelName(_ s: String) -> Bool {
        guard let first = s.utf8.first, !isDigit(first), !s.hasPrefix("__") else { return false }
        return s.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    private static func isLetter(_ c: UInt8) -> Bool { c | 0x20 >= 97 && c | 0x20 <= 122 }
}
