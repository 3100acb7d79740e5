import CUV
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NoexJSON
import NoexLoop
import NoexPersistence
import NoexStore

/// The server users run (docs/protocol/auth.md#server-operations): a WebSocket transport on one libuv loop feeding the
/// protocol core.
///
/// Loop-confined: create it, call `run()` (or run the loop you passed in) on one thread, and
/// call everything else from that thread — except `stopHandle`, which is the one thread-safe
/// way in.
public final class NoexServer {
    public let config: ServerConfig
    let loop: UnsafeMutablePointer<uv_loop_t>
    private let ownsLoop: Bool
    let transport: WebSocketServer
    let core: ProtocolCore
    private let delegate: ProtocolDelegate
    let startedAtMs: Int64
    /// The families `GET /metrics` serves; components register theirs here (docs/metrics.md).
    public let metrics = MetricsRegistry()
    private var housekeepingTimer: LoopTimerID?
    /// Durable storage and the gate that holds outputs until their writes are committed.
    private(set) var durable: DurableStore?
    private(set) var gate: CommitGate?
    /// The `file` engine instead (replies are not held).
    private(set) var snapshots: FileSnapshotStore?

    /// Builds the server and starts listening. With `loop == nil` the server owns a private loop
    /// that `run()` drives. Throws `StartError` when the address cannot be bound.
    public static func start(_ config: ServerConfig, loop: UnsafeMutablePointer<uv_loop_t>? = nil,
                             clock: ServerClock? = nil) throws(StartError) -> NoexServer {
        if let problem = config.monitoring.problem(webSocketPath: config.path) {
            throw StartError(message: problem, code: UV_EINVAL.rawValue)
        }
        let server = try NoexServer(config: config, loop: loop, clock: clock)
        if let c = config.cluster {
            do throws(StartError) { try server.joinCluster(c) } catch {
                server.abandon()
                throw error
            }
        }
        do {
            try server.transport.start()
        } catch {
            server.abandon()
            throw StartError(message: listenFailureMessage(host: config.host, port: config.port, error: error), code: error.code)
        }
        server.startHousekeeping()
        server.startTTLPurge()
        server.driveRuleTimers()
        if config.rateLimit == nil && config.host == "0.0.0.0" {
            printToStandardError("[noex-server] Warning: rate limiting is disabled. Consider enabling it for production use.")
        }
        return server
    }

    private init(config: ServerConfig, loop: UnsafeMutablePointer<uv_loop_t>?, clock: ServerClock?) throws(StartError) {
        self.config = config
        if let loop {
            self.loop = loop
            ownsLoop = false
        } else {
            let l = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
            let rc = uv_loop_init(l)
            guard rc == 0 else {
                l.deallocate()
                throw StartError(message: "uv_loop_init failed: \(UVError(rc))", code: rc)
            }
            self.loop = l
            ownsLoop = true
        }
        let loopRef = self.loop
        let clock = clock ?? ServerClock(wallMs: ServerClock.systemWallMs, monotonicMs: { Int64(uv_now(loopRef)) })
        let b = config.backpressure
        let high = max(0, min(b.highWaterBytes, b.maxBufferedBytes))
        transport = WebSocketServer(loop: self.loop, config: WebSocketServerConfig(
            host: config.host, port: config.port,
            upgrade: HTTPUpgradeConfig(path: config.path, allowedOrigins: config.allowedOrigins),
            decoder: WebSocketDecoderConfig(maxMessageBytes: config.maxPayloadBytes, rejectBinary: true),
            writeLimits: WriteQueueLimits(lowWaterBytes: high / 2, highWaterBytes: high, hardLimitBytes: b.maxBufferedBytes),
            heartbeat: NoexLoop.HeartbeatConfig(intervalMs: UInt64(max(1, config.heartbeat.intervalMs)),
                                                timeoutMs: UInt64(max(1, config.heartbeat.timeoutMs)), style: .application),
            slowClientTimeoutMs: UInt64(max(1, b.slowClientTimeoutMs)),
            sweepIntervalMs: UInt64(max(10, min(250, min(config.heartbeat.intervalMs, config.heartbeat.timeoutMs) / 4))),
            stop: StopOptions(gracePeriodMs: 0, closeCode: 1000, closeReason: "server_shutdown"),
            compression: config.compression))
        core = ProtocolCore(config: config, clock: clock)
        delegate = ProtocolDelegate(core: core)
        transport.delegate = delegate
        startedAtMs = clock.wallMs()
        core.loop = self.loop
        // Built-in identity: its buckets exist before a storage engine loads their records.
        if let builtIn = config.builtInAuth {
            do { core.installIdentity(try IdentityManager(store: config.store, config: builtIn)) } catch {
                throw StartError(message: "built-in identity: \(error)", code: -1)
            }
        }
        if let p = config.persistence, p.engine == .file {
            do {
                snapshots = try FileSnapshotStore(directory: p.path, policy: p.fsync, store: config.store, rules: config.rules, loop: self.loop)
            } catch {
                throw StartError(message: error.message, code: -1)
            }
            for problem in snapshots!.loadProblems { printToStandardError("[noex-server] Warning: \(problem)") }
            core.transportRef = transport
            core.storeOps.durable = snapshots
            core.rulesOps?.durable = snapshots
        } else if let p = config.persistence {
            do {
                durable = try DurableStore(path: p.path, policy: p.fsync, store: config.store, rules: config.rules, loop: self.loop)
            } catch {
                throw StartError(message: error.message, code: -1)
            }
            // Stored entries that could not be loaded (e.g. a record violating a unique index the
            // config file added): the start goes on, but the operator is told.
            for problem in durable!.loadProblems { printToStandardError("[noex-server] Warning: \(problem)") }
            let g = CommitGate(transport: transport, durable: durable!, exposeDetails: config.exposeErrorDetails)
            gate = g
            core.transportRef = g
            core.commitGate = g
            g.onLostDeltaPushes = { [unowned core] id, keys in core.resendStalePushes(id, keys: keys) }
            core.storeOps.durable = durable
            core.rulesOps?.durable = durable
            transport.beforeFlush = { [unowned g] in g.beforeFlush() }
        } else {
            core.transportRef = transport
        }
        // Seeds the system roles that the load did not bring back.
        do { try core.identity?.start() } catch {
            throw StartError(message: "built-in identity: \(error)", code: -1)
        }
        core.audit?.restore()  // after the engine loaded the `_audit` bucket
        // Every stored property is set from here on (the metrics closures capture self).
        transport.listensDuringGrace = config.monitoring.healthPath != nil
        registerBuiltinMetrics()
        delegate.monitoring = MonitoringEndpoints(config: config.monitoring, registry: metrics) { [unowned self] in
            self.healthAnswer()
        }
        delegate.onStoppedHook = { [unowned self] in
            self.core.cluster?.leave()  // removes its entry in Redis (bounded wait), then closes
            self.gate?.beforeFlush()
            self.durable?.close()
            self.snapshots?.close()
        }
    }

    deinit {
        if ownsLoop {
            _ = uv_loop_close(loop)
            loop.deallocate()
        }
    }

    /// After a failed listen: close the storage engine (its database lock, its timer handle) and
    /// let libuv finish closing what `start` opened, so the loop closes cleanly.
    private func abandon() {
        core.cluster?.close()
        durable?.close()
        snapshots?.close()
        if ownsLoop { uv_run(loop, UV_RUN_DEFAULT) }
    }

    /// One timer for the protocol's own housekeeping (rate-limit windows, revocations).
    private func startHousekeeping() {
        let periodMs = UInt64(max(100, min(config.rateLimit?.windowMs ?? 1000, 1000)))
        housekeepingTimer = transport.addTimer(delayMs: periodMs, repeatMs: periodMs) { [unowned core] in core.sweep() }
    }

    private var ttlTimer: LoopTimerID?

    /// Drives the store's TTL expiry (docs/protocol/queries.md#bucket-definitions): `purgeExpired` every
    /// `store.ttlCheckIntervalMs` (0 = off), the first one interval after start. Subscribers of
    /// affected queries get their pushes from the purge's `deleted` events.
    private func startTTLPurge() {
        let interval = config.store.ttlCheckIntervalMs
        if let node = core.cluster {
            // The purge lease also elects the node that fires rule timers: kept with TTL off too.
            ttlTimer = startClusterPurge(node, intervalMs: interval > 0 ? interval : 1000, purges: interval > 0)
            return
        }
        guard interval > 0 else { return }
        ttlTimer = transport.addTimer(delayMs: UInt64(interval), repeatMs: UInt64(interval)) { [store = config.store] in
            _ = store.purgeExpired()
        }
    }

    private var ruleTimer: LoopTimerID?

    /// The rule engine keeps its timers in a table and reports the earliest deadline; one loop
    /// timer is re-armed to that deadline and fires the due timers.
    private func driveRuleTimers() {
        guard let engine = config.rules else { return }
        // Weak: an embedder may keep the engine after freeing the server; the engine then
        // reports deadlines to nobody instead of calling into a freed object.
        engine.onTimerDeadlineChanged = { [weak self] deadline in self?.armRuleTimer(deadline) }
        armRuleTimer(engine.nextTimerDeadlineMs)
    }

    /// `notBeforeMs`: the least delay (a cluster node retries an overdue deadline at that pace).
    private func armRuleTimer(_ deadline: Int64?, notBeforeMs: Int64 = 0) {
        if let t = ruleTimer { transport.cancelTimer(t) }
        ruleTimer = nil
        guard let deadline, let engine = config.rules, !transport.isStopping else { return }
        let delay = UInt64(max(notBeforeMs, deadline - core.clock.wallMs()))
        ruleTimer = transport.addTimer(delayMs: delay) { [unowned self] in
            self.ruleTimer = nil
            if let node = self.core.cluster {
                // A loop timer may run a few ms early against the wall clock; an entry decided
                // before the deadline would fire nothing.
                let now = self.core.clock.wallMs()
                if let next = engine.nextTimerDeadlineMs, next > now {
                    self.armRuleTimer(next)
                    return
                }
                // In a cluster only the lease holder fires, through the log; applying that entry
                // re-arms this timer. Until then (or on the other nodes) it checks again.
                node.ruleTimersDue(nowMs: now)
                self.armRuleTimer(engine.nextTimerDeadlineMs, notBeforeMs: 250)
                return
            }
            _ = engine.fireDueTimers()
            self.armRuleTimer(engine.nextTimerDeadlineMs)
        }
    }

    // MARK: - Running and stopping

    /// Runs the loop until the server has stopped (only when the server owns its loop; with a
    /// caller's loop, run that loop instead). Returns libuv's `uv_run` result.
    @discardableResult
    public func run() -> Int32 {
        let rc = transport.run()
        finishDurable()
        return rc
    }

    /// After the loop stopped: commit what the last iteration wrote (synchronously) and stop
    /// the periodic fsync. Safe to call more than once.
    public func finishDurable() {
        snapshots?.finish()
        guard let durable else { return }
        durable.finish()
    }

    /// Graceful stop (docs/protocol/connecting.md): idempotent; with a grace period and connected clients,
    /// each gets `{"type":"system","event":"shutdown","gracePeriodMs":…}` and connections keep
    /// working until they leave or the period ends; the rest are closed with 1000 `server_shutdown`.
    public func stop(gracePeriodMs: Int64 = 0) {
        guard core.isRunning else { return }
        core.isRunning = false
        transport.stop(StopOptions(gracePeriodMs: UInt64(max(0, gracePeriodMs)), closeCode: 1000, closeReason: "server_shutdown"))
    }

    /// Stops on these signals, e.g. `[SIGINT, SIGTERM]`, with `config.shutdownGracePeriodMs`:
    /// every client gets `{"type":"system","event":"shutdown","gracePeriodMs":…}` and keeps
    /// working until it leaves or the period ends; the rest are closed with 1001
    /// `server_shutting_down` (a client is going away because the server is). A second signal
    /// during the grace period closes them at once. Throws when a signal cannot be watched.
    public func stopOnSignals(_ signals: [Int32]) throws(StartError) {
        let grace = UInt64(max(0, min(config.shutdownGracePeriodMs, ServerConfig.maxShutdownGracePeriodMs)))
        let options = StopOptions(gracePeriodMs: grace, closeCode: 1001, closeReason: "server_shutting_down")
        do {
            try transport.stopOnSignals(signals, options: options)
        } catch {
            throw StartError(message: "cannot watch signals: \(error)", code: error.code)
        }
    }

    /// A thread-safe handle that stops the server from any thread.
    public var stopHandle: StopHandle? { transport.stopHandle }

    // MARK: - Facts

    /// The bound port (useful with `port: 0`).
    public var port: Int { transport.port }
    /// Live protocol connections.
    public var connectionCount: Int { core.connectionCount }
    /// True from start until `stop` is called.
    public var isRunning: Bool { core.isRunning && !transport.isStopping }

    /// One ConnectionInfo (docs/protocol/auth.md#server-operations) per live connection, plus our `droppedPushes` (event
    /// pushes dropped on it by backpressure).
    public func getConnections() -> [JSON] { core.connectionInfos(withCounters: true) }

    /// ServerStats (docs/protocol/auth.md#server-operations), plus our `pushes: {sent, dropped}` (dropped = event pushes
    /// lost to backpressure since start, closed connections included).
    /// Also our `acceptErrors`: connections the listener failed to accept (EMFILE, ENFILE, ...)
    /// since start.
    public func getStats() -> JSON {
        var stats = core.statsJSON(includeListener: true, port: port, uptimeMs: core.clock.wallMs() - startedAtMs)
        if case .object(var o) = stats {
            o["acceptErrors"] = .int(Int64(transport.acceptErrors))
            stats = .object(o)
        }
        return stats
    }

    /// Revokes every session of `userId` (docs/protocol/auth.md); returns the number of connections closed.
    @discardableResult
    public func revokeSession(_ userId: String) -> Int { core.revokeSessions(userId: userId) }

    /// Revokes the sessions matching both filters; returns the number of connections closed.
    @discardableResult
    public func revokeSessions(userId: String? = nil, role: String? = nil) -> Int {
        core.revokeSessions(userId: userId, role: role)
    }

    /// Why `start` failed.
    public struct StartError: Error, CustomStringConvertible, Sendable {
        public var message: String
        /// The libuv error code (negative errno).
        public var code: Int32
        public var description: String { message }
    }
}

@available(*, unavailable)
extension NoexServer: Sendable {}

/// Forwards transport events to the protocol core.
private final class ProtocolDelegate: WebSocketServerDelegate {
    unowned let core: ProtocolCore
    /// `/metrics` and `/health`; set once at init.
    var monitoring: MonitoringEndpoints?
    init(core: ProtocolCore) { self.core = core }

    func onOpen(_ server: WebSocketServer, _ id: ConnectionID, remoteAddress: String) {
        core.connectionOpened(id, remoteAddress: remoteAddress)
    }
    // The message is borrowed for the call: the core reads it in place and copies it only when
    // it must wait behind a request in flight.
    func onText(_ server: WebSocketServer, _ id: ConnectionID, _ bytes: UnsafeRawBufferPointer) { core.textReceived(id, bytes) }
    func onClose(_ server: WebSocketServer, _ id: ConnectionID, code: UInt16) { core.connectionClosed(id) }
    func onHeartbeat(_ server: WebSocketServer, _ id: ConnectionID) { core.heartbeatDue(id) }
    func onAcceptError(_ server: WebSocketServer, _ error: UVError, count: Int) {
        printToStandardError("[noex-server] accept failed: \(error) (\(count) failures since the last report; still listening)")
    }
    func onStalePushes(_ server: WebSocketServer, _ id: ConnectionID, keys: [UInt64]) { core.resendStalePushes(id, keys: keys) }
    func onStopping(_ server: WebSocketServer, gracePeriodMs: UInt64) { core.stopping(gracePeriodMs: Int64(gracePeriodMs)) }
    func onStopped(_ server: WebSocketServer) {
        core.isRunning = false
        onStoppedHook?()
    }
    func onPlainRequest(_ server: WebSocketServer, _ request: HTTPRequestHead) -> HTTPPlainResponse? {
        monitoring?.respond(request)
    }
    /// The last chance to commit while the loop still runs.
    var onStoppedHook: (() -> Void)?
}

/// Writes one line to standard error without Foundation.
func printToStandardError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
