import CUV
import NoexCluster
import NoexJSON
import NoexStore

/// This process as one node of a cluster (docs/cluster.md): two Redis connections on the
/// server's loop — one for appends and the purge lease, one that follows the log — the applier,
/// and the writes of this node's clients that wait for their own entry.
final class ClusterNode {
    let config: ClusterConfig
    let loop: UnsafeMutablePointer<uv_loop_t>
    /// This process's id in the log (`origin`): the cluster name, a dash and 64 random bits,
    /// new at every start, so a restarted node never mistakes an entry of its previous life for
    /// a write one of its clients waits for.
    let origin: String
    let log: ClusterLog
    let reader: ClusterLogReader
    let applier: ClusterApplier
    /// Serials of this node's appended writes (0 is the TTL purge, which nobody waits for).
    private var nextSerial: UInt64 = 1
    /// Writes appended (or being appended) whose entry this node has not applied yet.
    var pending: [UInt64: ClusterPendingWrite] = [:]
    /// Set when the log lost entries this node still needed (trimmed), or reading it failed with
    /// an error reply: it stops applying and every write is answered `CLUSTER_UNAVAILABLE` with
    /// this text.
    private(set) var stopped: String?
    /// The last link problem, for the start-up error and the unavailable answers.
    private(set) var lastLinkProblem: String?
    /// Entries applied since start, and the cluster-time lag of the last one (apply time minus
    /// its origin's clock), for `/metrics`.
    private(set) var entriesApplied = 0
    private(set) var lastLagMs: Int64 = 0
    private var random = SystemRandomNumberGenerator()
    /// The snapshot holder's bookkeeping (ClusterNode+Trim.swift).
    var snapshotSchedule = ClusterSnapshotSchedule()
    /// State outside the store that snapshots carry (the rule engine's, under `rules`).
    var snapshotExtensions: (() -> JSONObject)?
    /// Whether the last lease tick found this node holding the lease: it alone fires rule timers.
    private(set) var holdsLease = false
    /// The other nodes' progress and this node's refusals (ClusterFlowControl.swift).
    var flow = ClusterFlowControl()
    /// The newest entry any node is known to have applied (this one's reader included).
    var knownHead: StreamID { max(reader.lastID, flow.peersHead) }
    /// The last published `seenMs` and when the tick ran, to notice a loop that was held.
    var lastSeenMs: Int64 = 0
    var lastTickMs: Int64 = 0
    /// False while the node catches up at start (not listening yet): flow control ignores it.
    var serving = false

    init(loop: UnsafeMutablePointer<uv_loop_t>, config: ClusterConfig, store: Store, position: ClusterPosition) {
        self.config = config
        self.loop = loop
        var r = SystemRandomNumberGenerator()
        let id = String(r.next() as UInt64, radix: 16)
        origin = config.name + "-" + String(repeating: "0", count: 16 - id.count) + id
        var options = RedisConnectionOptions()
        options.maxQueued = config.maxQueuedWrites
        options.maxQueueWaitMs = UInt64(config.writeTimeoutMs)
        options.connectTimeoutMs = UInt64(min(config.writeTimeoutMs, 2_000))
        log = ClusterLog(cluster: config.name, connection: RedisConnection(loop: loop, endpoint: config.redis, options: options))
        reader = ClusterLogReader(cluster: config.name, connection: RedisConnection(loop: loop, endpoint: config.redis, options: options),
                                  from: position.lastID)
        applier = ClusterApplier(store: store, position: position)
        for connection in [log.connection, reader.connection] {
            let previous = connection.onEvent
            connection.onEvent = { [weak self] event in
                previous?(event)
                switch event {
                case .connected: self?.lastLinkProblem = nil
                case .disconnected(let m), .connectFailed(let m): self?.lastLinkProblem = "Redis at \(config.redis): \(m)"
                }
            }
        }
        reader.onGap = { [weak self] last, trimmed in
            self?.stopped = "the cluster log no longer holds the entries after \(last) (trimmed up to \(trimmed)) and Redis held no snapshot at or past that point when this node started: this node cannot catch up; start it again once the cluster stored a snapshot (docs/cluster.md#trimming-and-bootstrap)"
        }
        // An error reply to a read (not a lost link, which is retried; not LOADING, which the
        // connection waits out) means the log key is not what this node can follow: stop
        // applying rather than serve a store that silently stopped moving.
        reader.onError = { [weak self] m in
            self?.lastLinkProblem = m
            self?.stopped = "reading the cluster log failed (\(m)); this node stopped applying entries: check the Redis key and restart the node"
        }
    }

    func start() {
        log.connection.start()
        reader.start()
    }

    func close() {
        reader.stop()
        log.connection.close()
        reader.connection.close()
    }

    /// A command decided now on this node (its clock, fresh random bits) with a new serial.
    func decide(_ operation: ClusterOperation, nowMs: Int64) -> ClusterCommand {
        let serial = nextSerial
        nextSerial += 1
        return ClusterCommand.decide(operation, origin: origin, request: serial, nowMs: nowMs, random: &random)
    }

    /// The serial of an entry this node appended, or nil for another node's (or unreadable) entry.
    func ownSerial(_ entry: JSON?) -> UInt64? {
        guard let e = entry, e["origin"]?.stringValue == origin else { return nil }
        return e["req"]?.stringValue.flatMap { UInt64($0) }
    }

    /// Applies one entry of the log; nil when it was applied before or the applier halted.
    func apply(_ id: StreamID, _ entry: JSON?, nowMs: Int64) -> ClusterOutcome? {
        let outcome = applier.apply(id: id, entry: entry ?? .null)
        if outcome != nil {
            entriesApplied += 1
            if let at = entry?["at"]?.intValue { lastLagMs = max(0, nowMs - at) }
        }
        return outcome
    }

    /// Why a write cannot be appended right now (the log is gone or the applier halted), or nil.
    var refusal: String? {
        stopped ?? applier.haltReason
    }

    /// `/health`'s `cluster` member: reads are served while Redis is away, so a node without
    /// Redis is still `ok`; `redis: false` says writes are failing. `origin` is the id the flow
    /// control error names; `lagMs` the slowest live node's lag as this node sees it.
    func health(nowMs: Int64) -> JSON {
        ["name": .string(config.name),
         "redis": .bool(log.connection.state == .connected && reader.connection.state == .connected),
         "pendingWrites": .int(Int64(pending.count)),
         "origin": .string(origin), "lagMs": .int(slowest(nowMs: nowMs)?.lagMs ?? 0)]
    }

    // MARK: - Flow control (docs/cluster.md#bounded-staleness-flow-control)

    /// Whether the reader is following the log (not checking after a (re)connect, not stopped)
    /// and its last read returned a full batch: there is more to read, it is behind.
    var readingBehind: Bool {
        reader.state == .reading && reader.connection.state == .connected && reader.lastReadCount >= reader.batch
    }

    /// How far this node is behind the log: since the append of the last entry it applied
    /// (Redis' clock, in the entry id) while reads return full batches, else 0 (at the tail, or
    /// not reading: a lost link is reported by its own errors).
    func ownLagMs(nowMs: Int64) -> Int64 {
        readingBehind ? max(0, nowMs - Int64(clamping: reader.lastID.ms)) : 0
    }

    /// The slowest live node (this one included) and its lag, or nil when none lags.
    func slowest(nowMs: Int64) -> (field: String, lagMs: Int64)? {
        flow.slowest(own: (origin, ownLagMs(nowMs: nowMs)), head: knownHead, nowMs: nowMs, timeoutMs: config.nodeTimeoutMs)
    }

    /// How long a connection whose write was refused for lag is not read: a client that retries
    /// at once would otherwise turn refusals into a load that keeps the slow node from catching up.
    var refusalPauseMs: UInt64 { UInt64(max(10, min(100, config.maxLagMs / 10))) }

    /// The error a client's write gets when a live node is more than `maxLagMs` behind, or nil.
    /// Only this node's clients' writes are refused: the reader goes on, so a node that is
    /// itself behind catches up, and the purge lease's appends go on.
    func lagRefusal(nowMs: Int64) -> ServerError? {
        guard config.maxLagMs > 0, let (field, lag) = slowest(nowMs: nowMs), lag > config.maxLagMs else { return nil }
        flow.refused += 1
        flow.pauseNext = true
        return .clusterLagging(node: field, lagMs: lag, isSelf: field == origin, maxLagMs: config.maxLagMs)
    }

    // MARK: - TTL purge on one node

    /// The key of the purge lease: whoever holds it appends the cluster's `purgeExpired`.
    var purgeLeaseKey: String { "noex:{\(config.name)}:purge-lease" }

    /// Takes or renews the purge lease (SET NX PX, or PEXPIRE when this node holds it) and,
    /// when this node holds it, appends a `purgeExpired` decided now. The lease outlives two
    /// missed ticks, so another node takes over when the holder is gone.
    /// `purges: false` keeps the lease (the rule-timer election) with TTL expiry off.
    func purgeTick(intervalMs: Int64, nowMs: Int64, purges: Bool = true) {
        let ttl = String(max(1_000, 3 * intervalMs))
        log.connection.send(["EVAL", Self.leaseScript, "1", purgeLeaseKey, origin, ttl]) { [weak self] result in
            guard let self else { return }
            if case .success(.integer(1)) = result { self.holdsLease = true } else { self.holdsLease = false }
            guard self.holdsLease, purges, self.refusal == nil else { return }
            let command = ClusterCommand.decide(.purgeExpired, origin: self.origin, request: 0, nowMs: nowMs, random: &self.random)
            self.log.append(command) { _ in }  // nobody waits: a lost purge is redone next tick
        }
    }

    /// The custom entry that fires the rule engine's due timers at the entry's time.
    static let fireTimersOp = "rules.fireTimers"

    /// A rule timer's deadline passed on this node's clock: the lease holder appends a
    /// "fire due timers" entry (every node fires at its position, with its time); the others
    /// wait for it (docs/cluster.md#rule-timers). A duplicate entry fires nothing.
    func ruleTimersDue(nowMs: Int64) {
        guard holdsLease, refusal == nil else { return }
        let command = ClusterCommand.decide(.custom(name: Self.fireTimersOp, args: [:]), origin: origin, request: 0, nowMs: nowMs, random: &random)
        log.append(command) { _ in }  // nobody waits: the holder retries while a timer is overdue
    }

    static let leaseScript = """
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]); return 1 end
        return 0
        """
}

/// A write request turned into its log command, waiting for the end of its pipeline.
struct ClusterAppend {
    let command: ClusterCommand
}

/// A client's write waiting for its entry: answered when this node applies it, or when the
/// append fails.
struct ClusterPendingWrite {
    let request: Request
    /// Nil once the connection closed: the entry is still applied, nobody is answered.
    weak var state: ConnectionState?
    let op: Int
    let sessionBefore: AuthSession?
    /// Monotonic ms when it was appended: past `writeTimeoutMs` it is answered anyway.
    let sinceMs: Int64
    /// Where Redis put it, once the append was confirmed.
    var appendedID: StreamID?
}
