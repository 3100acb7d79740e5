import NoexJSON

/// Deterministic application for replication (docs/cluster.md): a command decided on one node
/// (its time and the random source of its generated ids) is applied on every node with those
/// decisions, so every store fed the same commands in the same order ends byte-identical,
/// whatever each node's clock or random generator says. Everything else a mutation depends on
/// (autoincrement counters, versions, unique checks, TTL expiry from the pinned time, `maxSize`
/// eviction) is already a function of the store's state.
extension Store {
    /// Runs `body` with the store's clock pinned to `nowMs` and its uuid/cuid generator drawing
    /// from `random`; both are restored afterwards, also when `body` throws. Nesting is refused
    /// (a broken invariant): a command is applied as one unit.
    public func withDecisions<T, E: Error>(
        nowMs: Int64, random: any RandomNumberGenerator, _ body: () throws(E) -> T
    ) throws(E) -> T {
        precondition(pinnedNowMs == nil, "withDecisions does not nest")
        let savedIDs = ids
        pinnedNowMs = nowMs
        ids = IDGenerator(random: random)
        defer {
            pinnedNowMs = nil
            ids = savedIDs
        }
        return try body()
    }

    /// Every record of the bucket with its key, in the bucket's insertion order (snapshots).
    public func storedRecords(bucket name: String) -> [(key: JSON, record: JSONObject)]? {
        guard let b = buckets[name] else { return nil }
        var out: [(key: JSON, record: JSONObject)] = []
        out.reserveCapacity(b.count)
        for case let s? in b.table.slots { out.append((s.key, s.record)) }
        return out
    }

    /// Wire-defined declarative queries in definition order, as `(name, config)` (snapshots).
    /// Queries defined by a Swift closure have no config and are left out.
    public func declarativeQueries() -> [(name: String, config: JSONObject)] {
        queryOrder.compactMap { name in
            guard let config = queries[name]?.config else { return nil }
            return (name, config)
        }
    }
}
