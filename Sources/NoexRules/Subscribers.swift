/// Event subscribers of `rules.subscribe`, in the original's delivery order (docs/rules.md#semantics-in-brief):
/// first the exact-topic subscribers in subscription order, then the wildcard patterns in the
/// order each pattern string was first subscribed (a pattern whose last subscriber left loses
/// its place), and within a pattern in subscription order. Matching is matcher (b).
struct Subscribers {
    typealias Handler = (RuleEvent) -> Void

    private struct Entry {
        let id: Int
        let handler: Handler
    }

    private var exact: [String: [Entry]] = [:]
    /// Wildcard patterns with their segments split once (`*` alone has none: it matches all).
    private var wildcard: [(pattern: String, segments: [Substring], entries: [Entry])] = []
    private var patternOf: [Int: String] = [:]
    private var nextId = 1

    var count: Int { patternOf.count }

    mutating func add(_ pattern: String, _ handler: @escaping Handler) -> Int {
        let id = nextId
        nextId += 1
        patternOf[id] = pattern
        let entry = Entry(id: id, handler: handler)
        if Patterns.hasStar(pattern) {
            if let i = wildcard.firstIndex(where: { $0.pattern == pattern }) {
                wildcard[i].entries.append(entry)
            } else {
                let segments = pattern == "*" ? [] : pattern.split(separator: ".", omittingEmptySubsequences: false)
                wildcard.append((pattern, segments, [entry]))
            }
        } else {
            exact[pattern, default: []].append(entry)
        }
        return id
    }

    mutating func remove(_ id: Int) -> Bool {
        guard let pattern = patternOf.removeValue(forKey: id) else { return false }
        if Patterns.hasStar(pattern) {
            if let i = wildcard.firstIndex(where: { $0.pattern == pattern }) {
                wildcard[i].entries.removeAll { $0.id == id }
                if wildcard[i].entries.isEmpty { wildcard.remove(at: i) }
            }
        } else {
            exact[pattern]?.removeAll { $0.id == id }
            if exact[pattern]?.isEmpty == true { exact[pattern] = nil }
        }
        return true
    }

    mutating func removeAll() {
        exact = [:]
        wildcard = []
        patternOf = [:]
    }

    /// The handlers for `topic`, in delivery order. A snapshot: handlers may (un)subscribe
    /// while being called.
    func handlers(for topic: String) -> [Handler] {
        var out: [Handler] = []
        if let list = exact[topic] { out.append(contentsOf: list.lazy.map(\.handler)) }
        guard !wildcard.isEmpty else { return out }
        let topicSegments = topic.split(separator: ".", omittingEmptySubsequences: false)
        for (_, segments, entries) in wildcard
        where segments.isEmpty || Patterns.matchesSubscription(segments: segments, topicSegments) {
            out.append(contentsOf: entries.lazy.map(\.handler))
        }
        return out
    }
}

/// The rules indexed under one kind of trigger (event topic, fact pattern or timer name), in
/// the tie order of docs/rules.md#semantics-in-brief: rules whose trigger has no `*` (looked up by the exact string,
/// in registration order), then wildcard patterns in the order each pattern was first
/// registered, by registration within a pattern.
struct TriggerIndex {
    private var exact: [String: [RuleRuntime]] = [:]
    private var wildcard: [(pattern: String, rules: [RuleRuntime])] = []

    mutating func add(_ key: String, _ rule: RuleRuntime) {
        if Patterns.hasStar(key) {
            if let i = wildcard.firstIndex(where: { $0.pattern == key }) {
                wildcard[i].rules.append(rule)
            } else {
                wildcard.append((key, [rule]))
            }
        } else {
            exact[key, default: []].append(rule)
        }
    }

    mutating func remove(_ key: String, _ id: String) {
        if Patterns.hasStar(key) {
            if let i = wildcard.firstIndex(where: { $0.pattern == key }) {
                wildcard[i].rules.removeAll { $0.id == id }
                if wildcard[i].rules.isEmpty { wildcard.remove(at: i) }
            }
        } else {
            exact[key]?.removeAll { $0.id == id }
            if exact[key]?.isEmpty == true { exact[key] = nil }
        }
    }

    /// Rules whose trigger matches `subject` under `matches(pattern, subject)`.
    func candidates(_ subject: String, _ matches: (String, String) -> Bool) -> [RuleRuntime] {
        var out = exact[subject] ?? []
        for (pattern, rules) in wildcard where matches(pattern, subject) {
            out.append(contentsOf: rules)
        }
        return out
    }
}
