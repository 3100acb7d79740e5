/// Request types → small integers, so that per-operation counters are array slots. The lookup
/// costs an FNV-1a pass over the type's bytes and one string compare; no dictionary hashing
/// and no allocation on the request path. Types outside the table share one slot (`other`), so
/// a client cannot grow the metrics with made-up types.
struct OperationTable {
    /// Every operation the router knows, then the two shared slots.
    static let names: [String] = [
        "store.insert", "store.get", "store.update", "store.delete", "store.all", "store.where",
        "store.findOne", "store.count", "store.first", "store.last", "store.paginate", "store.clear",
        "store.sum", "store.avg", "store.min", "store.max", "store.buckets", "store.stats",
        "store.transaction", "store.subscribe", "store.unsubscribe", "store.defineBucket",
        "store.dropBucket", "store.updateBucket", "store.getBucketSchema", "store.defineQuery",
        "store.undefineQuery", "store.listQueries",
        "rules.emit", "rules.setFact", "rules.getFact", "rules.deleteFact", "rules.queryFacts",
        "rules.getAllFacts", "rules.stats", "rules.subscribe", "rules.unsubscribe", "rules.registerRule",
        "rules.unregisterRule", "rules.updateRule", "rules.enableRule", "rules.disableRule",
        "rules.getRule", "rules.getRules", "rules.validateRule",
        "auth.login", "auth.logout", "auth.whoami",
        "server.stats", "server.connections",
        "other", "invalid",
    ]
    /// Any request type not listed above.
    static let other = names.count - 2
    /// Messages that failed the envelope checks (no valid `type`/`id`, bad JSON).
    static let invalid = names.count - 1
    static var count: Int { names.count }

    private static let slotCount = 256
    /// Open addressing, linear probing; -1 = empty. Only the real operations are entered.
    private let slots: [Int16]
    /// `names`, held by the instance so the request path skips the static's lazy-init check.
    private let names = Self.names

    init() {
        var slots = [Int16](repeating: -1, count: Self.slotCount)
        for i in 0..<Self.other {
            var s = Self.hash(Self.names[i].utf8) & (Self.slotCount - 1)
            while slots[s] >= 0 { s = (s + 1) & (Self.slotCount - 1) }
            slots[s] = Int16(i)
        }
        self.slots = slots
    }

    /// The slot of a request type.
    func index(of type: String) -> Int {
        var s = Self.hash(type.utf8) & (Self.slotCount - 1)
        while true {
            let i = Int(slots[s])
            if i < 0 { return Self.other }
            if names[i] == type { return i }
            s = (s + 1) & (Self.slotCount - 1)
        }
    }

    private static func hash(_ bytes: String.UTF8View) -> Int {
        var h: UInt32 = 2_166_136_261
        for b in bytes { h = (h ^ UInt32(b)) &* 16_777_619 }
        return Int(h)
    }
}
