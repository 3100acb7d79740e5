/// Whether a wildcard pattern a client asks for stays inside a permission rule's topic
/// pattern. Permission topics use their own matcher (`*` all, `a.*` every value starting with
/// `a.`, otherwise exact); the pattern is allowed only if every topic or key it can match is
/// matched by the permission pattern — never "wider".
enum TopicScope {
    /// A `rules.subscribe` pattern (segments split by ".", a `*` segment matches one segment,
    /// a trailing `*` the rest) inside permission pattern `allowed`.
    ///
    /// `orders.*` and `orders.eu.*` are inside `orders.*`; `*`, `*.created` and `orders` are
    /// not. One documented exception: the subscription matcher lets `orders.*` also match the
    /// bare topic `orders`, which the permission `orders.*` does not name; the two spellings
    /// are the same pattern, so it is allowed.
    static func subscription(_ pattern: String, within allowed: String) -> Bool {
        if allowed == "*" { return true }
        if !pattern.contains("*") { return PermissionRule.patternMatches(allowed, pattern) }
        guard allowed.hasSuffix(".*") else { return false }  // an exact topic cannot hold a wildcard
        let prefix = allowed.dropLast(2).split(separator: ".", omittingEmptySubsequences: false)
        let segments = pattern.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count > prefix.count else { return false }
        for (p, s) in zip(segments, prefix) where p == "*" || p != s { return false }
        return true
    }

    /// A `rules.queryFacts` pattern (fact-key matcher, where a `*` spans characters and a "."
    /// matches any character) inside `allowed`: only a pattern without `*` (which matches
    /// itself alone) can be checked against a narrower permission; a wildcard needs `*`.
    static func factPattern(_ pattern: String, within allowed: String) -> Bool {
        if allowed == "*" { return true }
        return !pattern.contains("*") && PermissionRule.patternMatches(allowed, pattern)
    }
}
