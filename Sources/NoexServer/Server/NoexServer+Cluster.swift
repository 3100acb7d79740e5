import CUV
import NoexCluster
import NoexJSON
import NoexLoop
import NoexPersistence
import NoexRules
import NoexStore

/// Cluster mode at start (docs/cluster.md#running-a-cluster): load the stored position, follow
/// the log, and only listen once every entry that was in the log at start is applied.
extension NoexServer {
    func joinCluster(_ c: ClusterConfig) throws(StartError) {
        if let problem = ClusterConfig.problem(with: config) { throw StartError(message: problem, code: -1) }
        var position = try startingPosition()
        try keepRuleTimersDurable()
        // Nothing stored yet (no persistence, or an empty database): start from the snapshot.
        if durable == nil || durable?.committedClusterPosition == nil {
            position = try bootstrap(c) ?? position
        } else {
            position = try reloadIfTrimmedPast(position, c) ?? position
        }
        let node = ClusterNode(loop: loop, config: c, store: config.store, position: position)
        if let durable {
            node.applier.journal = durable
            node.applier.onPosition = { [unowned durable] in durable.clusterPosition = $0.text }
            // The failed batch is undone in memory, but the other nodes applied those entries:
            // this node stops applying, and restarts from the position stored with its data.
            gate?.onCommitFailed = { [unowned node] error in
                node.applier.halt("this node could not commit applied log entries (\(error.message)); it stopped following the cluster log: restart it to resume from its stored position")
                printToStandardError("[noex-server] cluster: \(node.applier.haltReason ?? "halted")")
            }
        }
        core.cluster = node
        core.installClusterHandlers(node)
        registerClusterMetrics(node)
        node.reader.onEntry = { [unowned core] id, entry in core.clusterEntry(id, entry) }
        node.start()
        // Published from the start: a node that just loaded a snapshot holds trimming back
        // while it catches up.
        let ticks = startPositionTicks(node)
        // The tail as of now; caught up once the reader delivered it.
        var tail: StreamID?
        var failure: String?
        node.log.connection.send(["XREVRANGE", node.log.streamKey, "+", "-", "COUNT", "1"]) { result in
            switch result {
            case .success(let reply):
                if case .error(let e) = reply { failure = "Redis refused XREVRANGE: \(e)"; return }
                tail = reply.elements?.first?.elements?.first?.text.flatMap(StreamID.init) ?? .zero
            case .failure(let f): failure = "Redis at \(c.redis): \(f.message)"
            }
        }
        var timedOut = false
        let timer = transport.addTimer(delayMs: UInt64(c.startupTimeoutMs)) { timedOut = true }
        while failure == nil, node.stopped == nil, !timedOut {
            if let t = tail, node.reader.lastID >= t { break }
            uv_run(loop, UV_RUN_ONCE)
            gate?.beforeFlush()  // replayed entries commit as they would while serving
        }
        transport.cancelTimer(timer)
        let problem = node.stopped ?? failure ?? (timedOut
            ? "could not catch up with the cluster log within \(c.startupTimeoutMs) ms (\(node.lastLinkProblem ?? "Redis at \(c.redis) is slow")); is Redis running at \(c.redis)?"
            : nil)
        if let problem {
            transport.cancelTimer(ticks)
            // Its entry, published while it tried, would hold trimming and flow control back
            // until nodeTimeoutMs: remove it (bounded wait).
            var left = false
            node.leave { left = true }
            while !left { uv_run(loop, UV_RUN_ONCE) }
            throw StartError(message: "cluster \"\(c.name)\": \(problem)", code: -1)
        }
        node.serving = true
        // The id flow control's errors and /health name this node by.
        printToStandardError("[noex-server] cluster \"\(c.name)\": joined as \(node.origin) at \(node.applier.position.lastID)")
    }

    /// With sqlite, the rule engine's timers (rule order, next rule version) are committed with
    /// the position of every commit that changed them, and loaded back here: the rules and facts tables do not hold them, and every
    /// node must keep the same timer table (docs/cluster.md#rule-timers).
    private func keepRuleTimersDurable() throws(StartError) {
        guard let durable, let engine = config.rules else { return }
        let key = "cluster_rule_timers"
        durable.clusterMeta = { [unowned engine] in [(key, engine.timersAndCounters().jsonString)] }
        durable.clusterMetaStamp = { [unowned engine] in engine.timersAndCountersStamp }
        do {
            guard durable.committedClusterPosition != nil, let text = try durable.storedMeta(key) else { return }
            try engine.restoreReplicatedState(try JSON.parse(text, limits: ClusterSnapshot.parseLimits))
        } catch {
            throw StartError(message: "database \"\(durable.path)\": the stored rule timers do not load (\(error)); start this node with a new database path", code: -1)
        }
    }

    /// Publishes this node's position every `positionIntervalMs` (docs/cluster.md#trimming-and-bootstrap):
    /// with sqlite the committed one (what a restart resumes from), else the applied one.
    private func startPositionTicks(_ node: ClusterNode) -> LoopTimerID {
        let interval = UInt64(node.config.publishIntervalMs)
        return transport.addTimer(delayMs: 0, repeatMs: interval) { [unowned self, unowned node] in
            var needed = node.applier.position
            if let durable = self.durable {
                needed = durable.committedClusterPosition.flatMap(ClusterPosition.init(text:)) ?? .start
            }
            node.positionTick(needed: needed, durable: self.durable != nil, nowMs: self.core.clock.wallMs())
        }
    }

    /// A node that starts with nothing (no persistence, or an empty database) loads the snapshot
    /// the lease holder stored in Redis (docs/cluster.md#trimming-and-bootstrap) — with sqlite
    /// written into the database in one transaction with its position — and follows the log
    /// after it; nil when there is none (then it reads the log from its start).
    private func bootstrap(_ c: ClusterConfig) throws(StartError) -> ClusterPosition? {
        let fail = { (m: String) in StartError(message: "cluster \"\(c.name)\": \(m)", code: -1) }
        switch try startupGet(c, "noex:{\(c.name)}:snapshot") {
        case .null: return nil
        case .bulk(let bytes):
            do {
                let snapshot = try JSON.parse(bytes, limits: ClusterSnapshot.parseLimits)
                let store = config.store
                let buckets = Set(store.bucketNames), queries = Set(store.declarativeQueries().map(\.name))
                let p = try ClusterSnapshot.restore(snapshot, into: store)
                if let state = snapshot["rules"], let engine = config.rules { try engine.restoreReplicatedState(state) }
                try durable?.saveBootstrap(buckets: store.bucketNames.filter { !buckets.contains($0) },
                                           queries: store.declarativeQueries().map(\.name).filter { !queries.contains($0) },
                                           clusterPosition: p.text)
                printToStandardError("[noex-server] cluster: loaded the snapshot at \(p.lastID) (\(bytes.count) bytes) from Redis")
                return p
            } catch {
                throw fail("the snapshot in Redis (noex:{\(c.name)}:snapshot) does not load: \(error)")
            }
        case let other: throw fail("unexpected reply to GET noex:{\(c.name)}:snapshot: \(other)")
        }
    }

    /// One GET at start, on a connection of its own (the node's are not made yet), waiting at
    /// most `startupTimeoutMs` for Redis.
    func startupGet(_ c: ClusterConfig, _ key: String) throws(StartError) -> RedisReply {
        var options = RedisConnectionOptions()
        options.maxQueueWaitMs = UInt64(c.startupTimeoutMs)
        options.connectTimeoutMs = UInt64(min(c.startupTimeoutMs, 2_000))
        let connection = RedisConnection(loop: loop, endpoint: c.redis, options: options)
        defer { connection.close() }
        connection.start()
        var answer: Result<RedisReply, RedisFailure>?
        connection.send(["GET", key]) { answer = $0 }
        while answer == nil { uv_run(loop, UV_RUN_ONCE) }
        switch answer! {
        case .failure(let f):
            throw StartError(message: "cluster \"\(c.name)\": could not catch up with the cluster log within \(c.startupTimeoutMs) ms (Redis at \(c.redis): \(f.message)); is Redis running at \(c.redis)?", code: -1)
        case .success(let reply): return reply
        }
    }

    /// Where this node resumes: the position stored with its data (sqlite), else the start of
    /// the log. A database that holds records but no position was not written by a cluster
    /// node: replaying the log over it would not reproduce the other nodes' state.
    private func startingPosition() throws(StartError) -> ClusterPosition {
        guard let durable else { return .start }
        let stored: String?
        do { stored = try durable.storedClusterPosition() } catch {
            throw StartError(message: error.message, code: -1)
        }
        if let stored {
            guard let p = ClusterPosition(text: stored) else {
                throw StartError(message: "database \"\(durable.path)\": unreadable cluster position \(stored)", code: -1)
            }
            return p
        }
        let store = config.store
        for name in store.bucketNames where !SystemBuckets.serverOwned.contains(name) {
            if let n = try? store.count(bucket: name), n > 0 {
                throw StartError(message: "database \"\(durable.path)\" holds records (bucket \"\(name)\") but no cluster position: it was not written by a node of a cluster; start this node with an empty database", code: -1)
            }
        }
        return .start
    }

    /// The node's figures on `/metrics` (docs/metrics.md).
    private func registerClusterMetrics(_ node: ClusterNode) {
        metrics.counter("noex_cluster_entries_applied_total", help: "Cluster log entries this node applied since start.") {
            [unowned node] in Double(node.entriesApplied)
        }
        metrics.gauge("noex_cluster_apply_lag_ms",
                      help: "When this node applied the last entry, minus its origin's clock at the append (includes clock skew between machines).") {
            [unowned node] in Double(node.lastLagMs)
        }
        metrics.gauge("noex_cluster_pending_writes", help: "Writes of this node's clients waiting for their log entry.") {
            [unowned node] in Double(node.pending.count)
        }
        metrics.gauge("noex_cluster_redis_connected", help: "1 when both Redis links (append, read) are up, else 0.") {
            [unowned node] in node.log.connection.state == .connected && node.reader.connection.state == .connected ? 1 : 0
        }
        metrics.gauge("noex_cluster_max_lag_ms",
                      help: "How far the slowest live node (this one included) is behind the cluster log, as this node sees it (0: none behind).") {
            [unowned node, unowned self] in Double(node.slowest(nowMs: self.core.clock.wallMs())?.lagMs ?? 0)
        }
        metrics.counter("noex_cluster_writes_refused_lag_total",
                        help: "Writes of this node's clients refused because a live node was more than cluster.maxLagMs behind.") {
            [unowned node] in Double(node.flow.refused)
        }
        metrics.gauge("noex_cluster_halted", help: "1 when this node stopped applying the cluster log (see /health for why), else 0.") {
            [unowned node] in node.refusal == nil ? 0 : 1
        }
        metrics.counter("noex_cluster_snapshots_stored_total", help: "Snapshots this node stored in Redis as the lease holder.") {
            [unowned node] in Double(node.snapshotSchedule.stored)
        }
        metrics.gauge("noex_cluster_snapshot_capture_ms", help: "How long the last snapshot capture and serialization held this node's loop.") {
            [unowned node] in node.snapshotSchedule.lastCaptureMs
        }
        metrics.gauge("noex_cluster_snapshot_bytes", help: "Size of the last snapshot this node captured.") {
            [unowned node] in Double(node.snapshotSchedule.lastBytes)
        }
    }

    /// TTL expiry in a cluster: one node at a time (the holder of a lease in Redis) appends a
    /// `purgeExpired` every `store.ttlCheckIntervalMs`; every node applies it at the same point
    /// of the log. No node purges on its own clock.
    /// `purges: false`: TTL expiry is off, the lease is still kept (it elects the rule-timer node).
    func startClusterPurge(_ node: ClusterNode, intervalMs: Int, purges: Bool = true) -> LoopTimerID {
        transport.addTimer(delayMs: UInt64(intervalMs), repeatMs: UInt64(intervalMs)) { [unowned self, unowned node] in
            node.purgeTick(intervalMs: Int64(intervalMs), nowMs: self.core.clock.wallMs(), purges: purges)
        }
    }
}
