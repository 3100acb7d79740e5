import NoexJSON

/// The engine's working memory: facts by key, in key insertion order, with the first-segment
/// index the original's `FactStore.query` uses (docs/rules.md, docs/protocol/rule-format.md#patterns).
struct FactStore {
    private var facts: [String: Fact] = [:]
    private var order = InsertionOrderedSet<String>()
    /// First segment (text before the first ":") → keys in creation order within that segment.
    private var byPrefix: [String: InsertionOrderedSet<String>] = [:]

    var count: Int { facts.count }
    /// Durable-log hook (DurableHooks.swift): (key, before, after) of every change.
    var observer: ((String, Fact?, Fact?) -> Void)?

    func get(_ key: String) -> Fact? { facts[key] }

    /// Stores a value; the version continues from the existing fact or starts at 1.
    @discardableResult
    mutating func set(_ key: String, _ value: JSON?, source: String, now: Int64) -> Fact {
        let version = (facts[key]?.version ?? 0) + 1
        let fact = Fact(key: key, value: value, timestamp: now, source: source, version: version)
        let old = put(fact)
        observer?(key, old, fact)
        return fact
    }

    /// Stores a fact as it is (load, undo); returns the one it replaced. No observer call.
    @discardableResult
    mutating func put(_ fact: Fact) -> Fact? {
        let old = facts.updateValue(fact, forKey: fact.key)
        if old == nil {
            order.insert(fact.key)
            byPrefix[Self.firstSegment(fact.key), default: InsertionOrderedSet<String>()].insert(fact.key)
        }
        return old
    }

    @discardableResult
    mutating func delete(_ key: String) -> Bool {
        guard let old = remove(key) else { return false }
        observer?(key, old, nil)
        return true
    }

    /// Removes a fact without an observer call; returns it.
    @discardableResult
    mutating func remove(_ key: String) -> Fact? {
        guard let old = facts.removeValue(forKey: key) else { return nil }
        order.remove(key)
        let prefix = Self.firstSegment(key)
        byPrefix[prefix]?.remove(key)
        if byPrefix[prefix]?.isEmpty == true { byPrefix[prefix] = nil }
        return old
    }

    /// Every fact, oldest key first.
    func all() -> [Fact] { order.keys.compactMap { facts[$0] } }

    /// `FactStore.query` (docs/protocol/rule-format.md#patterns): exact lookup without `*`; a full scan when the first
    /// segment is exactly `*`; otherwise only keys sharing the pattern's literal first segment
    /// are tested with the fact-key matcher (so `us*:1` finds nothing — the original's quirk).
    func query(_ pattern: String) -> [Fact] {
        if !pattern.contains("*") {
            return facts[pattern].map { [$0] } ?? []
        }
        let head = Self.firstSegment(pattern)
        var out: [Fact] = []
        let visit: (String) -> Void = { key in
            if Patterns.matchesFactKey(pattern, key), let f = facts[key] { out.append(f) }
        }
        if head == "*" {
            order.forEach(visit)
        } else {
            byPrefix[head]?.forEach(visit)
        }
        return out
    }

    /// The value of the first fact `query(pattern)` returns; what a fact condition reads.
    func firstValue(matching pattern: String) -> JSON? {
        if !pattern.contains("*") { return facts[pattern]?.value }
        return query(pattern).first?.value
    }

    mutating func removeAll() {
        facts = [:]
        order = InsertionOrderedSet<String>()
        byPrefix = [:]
    }

    static func firstSegment(_ key: String) -> String {
        if let i = key.firstIndex(of: ":") { return String(key[..<i]) }
        return key
    }
}
