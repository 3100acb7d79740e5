import CUV
import NoexCluster
import NoexJSON

/// When the snapshot holder last stored a snapshot, to decide when the next one is due.
struct ClusterSnapshotSchedule {
    var lastID: StreamID = .zero
    var entriesAt = 0
    var atMs: Int64 = 0
    var inFlight = false
    /// How long the last capture and serialization held the loop, for `/metrics`.
    var lastCaptureMs = 0.0
    var lastBytes = 0
    var stored = 0
}

/// Positions, snapshots in Redis and trimming (docs/cluster.md#trimming-and-bootstrap). Every
/// `positionIntervalMs` each node publishes the position it still needs; the node holding the
/// purge lease (the one election the cluster has) stores a snapshot when one is due and then
/// trims the log below the lowest of the snapshot's position and every live node's.
extension ClusterNode {
    var nodesKey: String { ClusterNodeTable.key(cluster: config.name) }
    var snapshotKey: String { "noex:{\(config.name)}:snapshot" }
    var snapshotPositionKey: String { "noex:{\(config.name)}:snapshot-position" }

    /// One tick: publish `needed` (durable: committed with the data), then, on the lease
    /// holder, snapshot and trim when due.
    func positionTick(needed: ClusterPosition, durable: Bool, nowMs: Int64) {
        // seenMs: everything appended before it is applied here. At the tail that is now; behind,
        // the append time of the last applied entry. A tick that comes late (the loop was held,
        // or the process stopped) says nothing new: the reader has not caught up yet; neither
        // does one while the reader is not reading (checking the log after a (re)connect).
        let held = lastTickMs > 0 && nowMs - lastTickMs > 2 * config.publishIntervalMs
        if lastTickMs == 0 { lastSeenMs = nowMs }
        lastTickMs = nowMs
        if !held, reader.state == .reading, reader.connection.state == .connected {
            lastSeenMs = readingBehind ? Int64(clamping: applier.position.lastID.ms) : nowMs
        }
        var entry = ClusterNodeTable.entry(position: needed, durable: durable, atMs: nowMs, applied: applier.position.lastID, seenMs: lastSeenMs)
        if refusal != nil || !serving, case .object(var o) = entry {
            o[refusal != nil ? "halted" : "joining"] = true
            entry = .object(o)
        }
        log.connection.send(bytes: [Array("HSET".utf8), Array(nodesKey.utf8), Array(origin.utf8), entry.serializedBytes]) { _ in }
        if config.maxLagMs > 0 {
            log.connection.send(["HGETALL", nodesKey]) { [weak self] result in
                if case .success(.array(let items)) = result { self?.flow.peers = ClusterFlowControl.peers(fieldsAndValues: items) }
            }
        }
        guard refusal == nil, !snapshotSchedule.inFlight, snapshotDue(nowMs: nowMs) else { return }
        let ttl = String(max(1_000, 3 * config.positionIntervalMs))
        log.connection.send(["EVAL", Self.leaseScript, "1", purgeLeaseKey, origin, ttl]) { [weak self] result in
            guard let self, case .success(.integer(1)) = result, self.refusal == nil,
                  !self.snapshotSchedule.inFlight, self.snapshotDue(nowMs: nowMs) else { return }
            self.storeSnapshot(nowMs: nowMs)
        }
    }

    private func snapshotDue(nowMs: Int64) -> Bool {
        let s = snapshotSchedule
        guard applier.position.lastID > s.lastID else { return false }
        if s.atMs == 0 { snapshotSchedule.atMs = nowMs }  // the interval counts from the first tick
        return Int64(entriesApplied - s.entriesAt) >= config.snapshotEveryEntries
            || nowMs - snapshotSchedule.atMs >= config.snapshotIntervalMs
    }

    /// Captures the store at the applied position (synchronously, on the loop: the cost is in
    /// the docs), stores it unless a newer one is there, then trims.
    private func storeSnapshot(nowMs: Int64) {
        let position = applier.position
        let started = uv_hrtime()
        let bytes = ClusterSnapshot.capture(applier.store, at: position, extensions: snapshotExtensions?() ?? [:]).serializedBytes
        snapshotSchedule.lastCaptureMs = Double(uv_hrtime() - started) / 1e6
        snapshotSchedule.lastBytes = bytes.count
        snapshotSchedule.lastID = position.lastID
        snapshotSchedule.entriesAt = entriesApplied
        snapshotSchedule.atMs = nowMs
        guard Int64(bytes.count) <= config.maxSnapshotBytes else {
            printToStandardError("[noex-server] cluster: snapshot at \(position.lastID) is \(bytes.count) bytes, above cluster.maxSnapshotBytes (\(config.maxSnapshotBytes)): not stored, the log is not trimmed")
            return
        }
        snapshotSchedule.inFlight = true
        let args: [[UInt8]] = [Array("EVAL".utf8), Array(Self.snapshotScript.utf8), Array("2".utf8), Array(snapshotKey.utf8),
                               Array(snapshotPositionKey.utf8), bytes, Array(position.lastID.description.utf8)]
        log.connection.send(bytes: args) { [weak self] result in
            guard let self else { return }
            guard case .success(.integer) = result else {
                self.snapshotSchedule.inFlight = false
                printToStandardError("[noex-server] cluster: storing the snapshot at \(position.lastID) failed: \(result)")
                return
            }
            self.snapshotSchedule.stored += 1
            self.trim(snapshot: position.lastID, nowMs: nowMs)
        }
    }

    /// Trims below the lowest of `snapshot` and every live node's position; forgets the nodes
    /// that timed out.
    private func trim(snapshot: StreamID, nowMs: Int64) {
        log.connection.send(["HGETALL", nodesKey]) { [weak self] result in
            guard let self else { return }
            guard case .success(.array(let items)) = result else {
                self.snapshotSchedule.inFlight = false
                return
            }
            var pairs: [(String, String)] = []
            var i = 0
            while i + 1 < items.count {
                pairs.append((items[i].text ?? "", items[i + 1].text ?? ""))
                i += 2
            }
            let verdict = ClusterNodeTable.verdict(fieldsAndValues: pairs, snapshot: snapshot, nowMs: nowMs, timeoutMs: self.config.nodeTimeoutMs)
            if !verdict.expired.isEmpty {
                self.log.connection.send(["HDEL", self.nodesKey] + verdict.expired) { _ in }
            }
            guard let limit = verdict.limit else {
                self.snapshotSchedule.inFlight = false
                printToStandardError("[noex-server] cluster: \(self.nodesKey) holds an entry this node cannot read: the log is not trimmed")
                return
            }
            self.log.trim(below: limit) { [weak self] _ in self?.snapshotSchedule.inFlight = false }
        }
    }

    /// Stores the snapshot and its position unless the stored one is at or past it (a former
    /// lease holder's late write never replaces a newer snapshot).
    static let snapshotScript = """
        local old = redis.call('GET', KEYS[2])
        if old then
          local oms, oseq = string.match(old, '^(%d+)-(%d+)$')
          local nms, nseq = string.match(ARGV[2], '^(%d+)-(%d+)$')
          oms, oseq, nms, nseq = tonumber(oms), tonumber(oseq), tonumber(nms), tonumber(nseq)
          if oms > nms or (oms == nms and oseq >= nseq) then return 0 end
        end
        redis.call('SET', KEYS[1], ARGV[1])
        redis.call('SET', KEYS[2], ARGV[2])
        return 1
        """
}
