/// The four wildcard matchers of the original (docs/protocol/rule-format.md#patterns). They differ on purpose — each one is
/// what a different piece of the original does — and the wire behaviour depends on the
/// differences (`*` as a rule trigger matches one segment, as a subscription everything).
/// Only `*` is special; there is no `**`.
public enum Patterns {
    /// (a) An event rule's `trigger.topic` against an event topic; "." separates segments.
    ///
    /// Exact equality; `prefix.*` matches everything strictly below `prefix` (any depth, not
    /// `prefix` itself); otherwise each `*` stands for one or more characters other than ".".
    /// The original compiles this to a regular expression without escaping metacharacters
    /// other than "."; here they are literal (a deliberate, documented divergence).
    public static func matchesRuleTopic(_ pattern: String, _ topic: String) -> Bool {
        if pattern == topic { return true }
        let p = pattern.utf8
        if p.count >= 2 && p.last == UInt8(ascii: "*") && p[p.index(p.endIndex, offsetBy: -2)] == UInt8(ascii: ".") {
            // `prefix.*`: the topic starts with `prefix.` (the "." included in the comparison).
            let prefixWithDot = p.dropLast()
            return topic.utf8.count >= prefixWithDot.count && topic.utf8.starts(with: prefixWithDot)
        }
        guard hasStar(pattern) else { return false }
        return glob(pattern, topic, separator: ".", dotIsAny: false)
    }

    /// (b) A `rules.subscribe` pattern against an event topic; "." separates segments.
    ///
    /// No `*`: exact. `*` alone: every topic. Otherwise segment by segment, a `*` segment
    /// matches one segment, and a `*` in the last position matches the rest, including nothing
    /// (`order.*` matches `order`). A partial `ord*` is compared literally.
    public static func matchesSubscription(_ pattern: String, _ topic: String) -> Bool {
        guard hasStar(pattern) else { return pattern == topic }
        if pattern == "*" { return true }
        return matchesSubscription(
            segments: pattern.split(separator: ".", omittingEmptySubsequences: false),
            topic.split(separator: ".", omittingEmptySubsequences: false))
    }

    /// Matcher (b) on pre-split segments, for a pattern containing `*` other than `*` alone.
    static func matchesSubscription(segments p: [Substring], _ t: [Substring]) -> Bool {
        for i in 0..<p.count {
            if p[i] == "*" && i == p.count - 1 { return true }
            if i >= t.count { return false }
            if p[i] != "*" && p[i] != t[i] { return false }
        }
        return p.count == t.count
    }

    /// (c) A fact trigger's pattern against a fact key, or a timer trigger's name against a
    /// timer name; ":" separates segments.
    ///
    /// Exact equality; `prefix:*` (no other `*`) matches `prefix:` plus one segment that may be
    /// empty; otherwise each `*` is one or more characters other than ":", and — as in the
    /// original's unescaped regular expression — a "." matches any one character.
    public static func matchesFactKey(_ pattern: String, _ key: String) -> Bool {
        if pattern == key { return true }
        let stars = pattern.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "*") ? 1 : 0) }
        if stars == 0 { return false }
        if stars == 1 && pattern.hasSuffix(":*") {
            let prefix = String(pattern.dropLast(1))  // keeps the ":"
            guard key.hasPrefix(prefix) else { return false }
            return !key.dropFirst(prefix.count).contains(":")
        }
        return glob(pattern, key, separator: ":", dotIsAny: true)
    }

    /// Whether a pattern contains the wildcard `*` (a byte scan).
    @inline(__always)
    static func hasStar(_ pattern: String) -> Bool { pattern.utf8.contains(UInt8(ascii: "*")) }

    /// The timer-name matcher is the fact-key matcher (c).
    public static func matchesTimerName(_ pattern: String, _ name: String) -> Bool {
        matchesFactKey(pattern, name)
    }

    /// Whole-string match where `*` is one or more characters other than `separator`
    /// (and, with `dotIsAny`, "." is any character but a line break). Dynamic programming over
    /// Unicode scalars: linear in pattern × subject, no backtracking blow-up.
    static func glob(_ pattern: String, _ subject: String, separator: Unicode.Scalar, dotIsAny: Bool) -> Bool {
        let p = Array(pattern.unicodeScalars)
        let s = Array(subject.unicodeScalars)
        // next[j]: does p[i+1...] match s[j...]; cur[j]: does p[i...] match s[j...].
        var next = [Bool](repeating: false, count: s.count + 1)
        next[s.count] = true
        var cur = next
        for i in stride(from: p.count - 1, through: 0, by: -1) {
            cur[s.count] = false
            for j in stride(from: s.count - 1, through: 0, by: -1) {
                let c = s[j]
                switch p[i] {
                case "*":
                    cur[j] = c != separator && (next[j + 1] || cur[j + 1])
                case "." where dotIsAny:
                    cur[j] = c != "\n" && c != "\r" && next[j + 1]
                default:
                    cur[j] = c == p[i] && next[j + 1]
                }
            }
            swap(&cur, &next)
        }
        return next[0]
    }
}
