import CUV
import NoexCluster
import NoexJSON
import NoexPersistence
import NoexRules
import NoexStore

/// A durable node that was away while the cluster trimmed past its stored position
/// (docs/cluster.md#a-stale-database): the log no longer holds what it would replay, so it
/// replaces its replicated state with the snapshot in Redis — in memory and in the database,
/// records, facts and position in one transaction — and follows the log after the snapshot.
extension NoexServer {
    /// The snapshot's position when the database was stale and the snapshot replaced it; nil
    /// when the log still holds everything after `stored` (or Redis holds no snapshot past the
    /// trim: then the reader's gap check stops the start with its error).
    func reloadIfTrimmedPast(_ stored: ClusterPosition, _ c: ClusterConfig) throws(StartError) -> ClusterPosition? {
        guard let durable else { return nil }
        let fail = { (m: String) in StartError(message: "cluster \"\(c.name)\": \(m)", code: -1) }
        guard let trimmed = try startupGet(c, "noex:{\(c.name)}:trimmed").text.flatMap(StreamID.init), trimmed > stored.lastID,
              case .bulk(let bytes) = try startupGet(c, "noex:{\(c.name)}:snapshot") else { return nil }
        let snapshot: JSON
        do { snapshot = try JSON.parse(bytes, limits: ClusterSnapshot.parseLimits) } catch {
            throw fail("the snapshot in Redis (noex:{\(c.name)}:snapshot) does not load: \(error)")
        }
        guard let at = snapshot["position"].flatMap(ClusterPosition.init(json:)), at.lastID >= trimmed else { return nil }
        do {
            try replaceReplicatedState(with: snapshot, durable)
        } catch {
            throw fail("database \"\(durable.path)\" is behind the trimmed log (its position \(stored.lastID), trimmed up to \(trimmed)) and loading the snapshot at \(at.lastID) over it failed: \(error); start this node with a new database path")
        }
        printToStandardError("[noex-server] cluster: database \"\(durable.path)\" was at \(stored.lastID), below the trimmed log (\(trimmed)): replaced its replicated state with the snapshot at \(at.lastID) (\(bytes.count) bytes) from Redis")
        return at
    }

    /// Empties every bucket, loads the snapshot, and commits the deletions, the snapshot's
    /// records and its position as one transaction (a crash before it leaves the old database
    /// and position, and the next start does this again). Bucket and query definitions the
    /// snapshot adds, or buckets it no longer has, are committed first on their own: harmless
    /// if the data commit never follows.
    private func replaceReplicatedState(with snapshot: JSON, _ durable: DurableStore) throws {
        let store = config.store
        let kept = Set((snapshot["buckets"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        for name in store.bucketNames where !kept.contains(name) && !SystemBuckets.serverOwned.contains(name) {
            try store.dropBucket(name)
            try durable.bucketDropped(name)
        }
        // As a bootstrap: the node holds exactly the snapshot afterwards (per-node system
        // buckets included). The deletions are recorded by the durable store, still pending.
        for name in store.bucketNames { try store.clear(bucket: name) }
        let buckets = Set(store.bucketNames), queries = Set(store.declarativeQueries().map(\.name))
        let position = try ClusterSnapshot.restore(snapshot, into: store)
        for name in store.bucketNames where !buckets.contains(name) {
            try durable.bucketDefined(name, config: store.getBucketSchema(name) ?? [:])
        }
        for q in store.declarativeQueries() where !queries.contains(q.name) { try durable.queryDefined(q.name, config: q.config) }
        // `restore` loads without events: record the inserts, after the deletions.
        for name in store.bucketNames where store.isDurable(bucket: name) {
            let inserts = store.storedInserts(bucket: name)
            if !inserts.isEmpty { store.onMutation?(inserts) }
        }
        try replaceRuleEngineState(with: snapshot, durable)
        durable.clusterPosition = position.text
        var outcome: PersistenceError??
        durable.commitPending { outcome = .some($0) }
        while outcome == nil { uv_run(loop, UV_RUN_ONCE) }  // `always`: the fsync's answer
        if let error = outcome! { throw error }
    }

    /// The rule engine's part of the snapshot (rules, facts, timers) replaces what the stale
    /// database loaded. Rules are committed one by one first, as schema changes are above; the
    /// facts are handed to the durable store as changes, so they go into the data commit, and
    /// the timers follow with the position (the cluster meta row).
    private func replaceRuleEngineState(with snapshot: JSON, _ durable: DurableStore) throws {
        guard let state = snapshot["rules"], let engine = config.rules else { return }
        var factsBefore: [String: Fact] = [:]
        for f in engine.getAllFacts() { factsBefore[f.key] = f }
        let rulesBefore = engine.getRules().map(\.id)
        try engine.replaceReplicatedState(state)
        let rulesNow = engine.getRules()
        let kept = Set(rulesNow.map(\.id))
        for id in rulesBefore where !kept.contains(id) { try durable.ruleChanged(id, nil) }
        for rule in rulesNow { try durable.ruleChanged(rule.id, rule.json) }
        let factsNow = engine.getAllFacts()
        let present = Set(factsNow.map(\.key))
        for (key, fact) in factsBefore where !present.contains(key) { engine.onFactChange?(key, fact, nil) }
        for fact in factsNow { engine.onFactChange?(fact.key, factsBefore[fact.key], fact) }
    }
}
