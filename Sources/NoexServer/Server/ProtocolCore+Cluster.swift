import NoexCluster
import NoexJSON
import NoexRules

/// Cluster mode (docs/cluster.md): a store write is checked here as the single server checks
/// it, appended to the cluster's log, and answered when this node applies its own entry —
/// through `finishRequest`, like every other answer, with the bytes the single server sends.
/// Later frames of the same connection wait behind it (`inFlight`), so answers keep their order.
extension ProtocolCore {
    /// Takes a write (true: `clusterWrite` is set and the answer comes later); refuses what is
    /// not replicated; leaves everything else (reads, subscriptions, rules…) to the normal route.
    func clusterTakes(_ r: Request, _ state: ConnectionState) throws(ServerError) -> Bool {
        if let node = cluster, RulesInput.types.contains(r.type) { return try clusterTakesRules(r, node) }
        if let node = cluster, let args = ClusterProcedures.args(of: r, session: state.session) {
            try checkAppendable(node)
            clusterWrite = ClusterAppend(command: node.decide(.custom(name: r.type, args: args), nowMs: clock.wallMs()))
            return true
        }
        guard let node = cluster, ClusterRequest.writes.contains(r.type) else { return false }
        try storeOps.systemBuckets.check(r, queryBuckets: store.bucketsRead(byQuery:))
        let operation = try ClusterRequest.operation(of: r, systemBuckets: storeOps.systemBuckets, hasBucket: store.hasBucket)
        try checkAppendable(node)
        clusterWrite = ClusterAppend(command: node.decide(operation, nowMs: clock.wallMs()))
        return true
    }

    /// Every write is refused before its append while Redis is unavailable, or while a live node
    /// lags more than `cluster.maxLagMs` behind the log (flow control).
    private func checkAppendable(_ node: ClusterNode) throws(ServerError) {
        if let why = node.refusal { throw .clusterUnavailable(why) }
        if let lagging = node.lagRefusal(nowMs: clock.wallMs()) { throw lagging }
    }

    /// A rule-engine input (docs/cluster.md#rule-engine-inputs): checked as the single server
    /// checks it, then appended as a custom entry that every node applies to its own engine.
    private func clusterTakesRules(_ r: Request, _ node: ClusterNode) throws(ServerError) -> Bool {
        guard rulesOps != nil else { throw .rulesNotConfigured }
        guard let input = try RulesInput(r) else { return false }
        try checkAppendable(node)
        clusterWrite = ClusterAppend(command: node.decide(.custom(name: r.type, args: input.args), nowMs: clock.wallMs()))
        return true
    }

    /// Installs the `ext` entries this server applies: procedures, and with a rule engine its
    /// inputs and timer firings; pins the engine's time and ids to each entry's decisions (store
    /// entries too: the store bridge feeds the engine while they apply); puts the engine into
    /// snapshots.
    func installClusterHandlers(_ node: ClusterNode) {
        installClusterProcedures(node)
        guard let engine = rules else {
            // Another node runs the engine (every node should: docs/cluster.md); its entries
            // change nothing here, and they are known, so this node does not halt on them.
            node.applier.handle(RulesInput.types.union([ClusterNode.fireTimersOp])) { _, _, _ in .invalid("the rule engine is off on this node") }
            return
        }
        node.applier.handle(RulesInput.types) { [unowned self, unowned node] name, args, _ in
            Self.outcome(node, "a rule change") { () throws(ServerError) in
                guard let ops = self.rulesOps else { throw .rulesNotConfigured }
                return try ops.handle(Request(id: .null, type: name, fields: args))
            }
        }
        node.applier.handle([ClusterNode.fireTimersOp]) { [unowned engine] _, _, _ in
            .applied(["fired": .int(Int64(engine.fireDueTimers()))])
        }
        node.applier.decisionScope = { [unowned engine] now, seed, apply in
            // The store draws from (seed.0, seed.1); the engine's ids from a separate stream.
            var ids = CommandRandom(seed: (seed.1, seed.0))
            return engine.withDecisions(nowMs: now, idSeed: ids.next(), apply)
        }
        node.snapshotExtensions = { [unowned engine] in ["rules": engine.replicatedState()] }
    }

    /// `procedures.register/update/unregister/call` entries (docs/cluster.md#procedures): every
    /// node runs the single server's operation at the entry's position and time, a call's steps
    /// checked as the origin's session would be, without the wall-clock timeout.
    private func installClusterProcedures(_ node: ClusterNode) {
        node.applier.handle(ClusterProcedures.writes) { [unowned self, unowned node] name, args, now in
            var fields = args
            let session = fields.removeValue(forKey: ClusterProcedures.sessionField).flatMap(ClusterProcedures.session(from:))
            var ops = self.procedureOperations(session: { session }, nowMs: { now })
            ops.enforcesTimeout = false
            return Self.outcome(node, "a procedure change") { () throws(ServerError) in
                try ops.handle(Request(id: .null, type: name, fields: fields))
            }
        }
    }

    /// An `ext` operation's answer as its outcome. A failed commit halts the node: the other
    /// nodes stored `what`, so this one must restart from its stored position.
    private static func outcome(_ node: ClusterNode, _ what: String, _ body: () throws(ServerError) -> JSON) -> ClusterOutcome {
        do throws(ServerError) {
            return .applied(try body())
        } catch {
            if error.code == .persistenceError {
                node.applier.halt("\(what) could not be committed (\(error.message)); restart this node to resume from its stored position")
            }
            return .failed(code: error.code.rawValue, message: error.message, details: error.details)
        }
    }

    /// After a write refused because a node lags (ClusterNode.lagRefusal): the connection's
    /// next frames wait `refusalPauseMs`, so a client retrying at once cannot flood the node.
    func pauseAfterLagRefusal(_ state: ConnectionState) {
        guard let node = cluster, node.flow.pauseNext else { return }
        node.flow.pauseNext = false
        state.inFlight = true
        _ = OneShotLoopTimer(loop: node.loop, delayMs: node.refusalPauseMs) { [weak self, weak state] in
            guard let self, let state, self.connections[state.id] === state else { return }
            state.inFlight = false
            self.drainWaiting(state)
        }
    }

    /// Appends the command; the connection's later frames wait until it is answered.
    func appendClusterWrite(_ write: ClusterAppend, _ request: Request, _ state: ConnectionState, op: Int, sessionBefore: AuthSession?) {
        guard let node = cluster else { return }
        let command = write.command
        state.inFlight = true
        node.pending[command.request] = ClusterPendingWrite(request: request, state: state, op: op, sessionBefore: sessionBefore,
                                                            sinceMs: clock.monotonicMs())
        node.log.append(command) { [weak self] result in
            switch result {
            case .success(let id): self?.cluster?.pending[command.request]?.appendedID = id  // answered when applied
            case .failure(let failure): self?.appendFailed(command.request, failure)
            }
        }
    }

    /// The append did not happen, or its fate is unknown (the link broke with the command in
    /// flight). Either way the client is answered now, once; an entry that did reach the log is
    /// still applied by every node when it is read, but answers nobody.
    private func appendFailed(_ serial: UInt64, _ failure: ClusterLogError) {
        guard let node = cluster, let write = node.pending.removeValue(forKey: serial) else { return }
        let error: ServerError
        switch failure {
        case .redis(let f) where f.code == .connectionLost || f.code == .closed:  // closed: at shutdown, maybe in flight
            error = .clusterUnavailable("the link to Redis broke while this write was being appended (\(f.message)); it is applied on every node if Redis recorded it — read the data to find out", applied: "unknown")
        case .redis(let f):
            error = .clusterUnavailable("\(f.message)")
        case .unexpected:
            error = .clusterUnavailable(failure.description)
        }
        answerClusterWrite(write, .failure(error), writesBefore: commitGate?.durable.mutationCount)
    }

    /// One entry of the log, in order: applied to the store; if this node appended it for a
    /// client, that client gets the outcome as its answer, before the pushes the entry caused.
    func clusterEntry(_ id: StreamID, _ entry: JSON?) {
        guard let node = cluster else { return }
        let waiting = node.ownSerial(entry).flatMap { node.pending.removeValue(forKey: $0) }
        deferredPushes = deferredPushes ?? []
        let writesBefore = commitGate?.durable.mutationCount
        let outcome = node.apply(id, entry, nowMs: clock.wallMs())
        guard let waiting else {
            flushDeferredPushes()
            return
        }
        answerClusterWrite(waiting, ClusterRequest.answer(outcome, of: waiting.request, haltReason: node.applier.haltReason),
                           writesBefore: writesBefore)
    }

    /// From the housekeeping sweep: a write that waited longer than `writeTimeoutMs` (Redis
    /// hangs, or this node does not get to read the log) is answered `CLUSTER_UNAVAILABLE`, so no
    /// client waits without bound. Its entry, if Redis has it, is still applied everywhere.
    func expireClusterWrites() {
        guard let node = cluster, !node.pending.isEmpty else { return }
        let now = clock.monotonicMs()
        let limit = node.config.writeTimeoutMs
        for (serial, write) in node.pending.sorted(by: { $0.key < $1.key }) where now - write.sinceMs > limit {
            node.pending[serial] = nil
            let why = write.appendedID.map {
                "the write was appended to the log as \($0) but this node has not read it back within \(limit) ms; it is applied on every node when they read it — read the data to find out"
            } ?? "Redis did not confirm the append within \(limit) ms; it is applied on every node if Redis recorded it — read the data to find out"
            answerClusterWrite(write, .failure(.clusterUnavailable(why, applied: write.appendedID == nil ? "unknown" : "pending")),
                               writesBefore: commitGate?.durable.mutationCount)
        }
    }

    private func answerClusterWrite(_ write: ClusterPendingWrite, _ result: Result<JSON, ServerError>, writesBefore: Int?) {
        guard let state = write.state, connections[state.id] === state else {
            flushDeferredPushes()  // the client left; the pushes of the entry still go out
            return
        }
        state.inFlight = false
        finishRequest(write.request, state, op: write.op, result, writesBefore: writesBefore, sessionBefore: write.sessionBefore)
        drainWaiting(state)
    }
}
