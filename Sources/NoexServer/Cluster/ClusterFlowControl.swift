import NoexCluster
import NoexJSON

/// One other node as its entry in `noex:{NAME}:nodes` says: the last entry it applied, the time
/// before which it had applied everything appended (`seenMs`), and when it published.
struct ClusterPeer: Equatable {
    let field: String
    let applied: StreamID
    let seenMs: Int64
    let atMs: Int64
    /// A halted node publishes its position (trimming keeps what it needs to restart) but does
    /// not hold writes back: it will not catch up before it is restarted.
    var halted = false
    /// A node catching up at start serves no client yet: its lag shows nobody a stale state.
    var joining = false

    /// Nil for an entry that is not a node's JSON. An entry of a node without flow control (an
    /// older version) counts with its trimming position: its lag is then overstated, never hidden.
    init?(field: String, value: String) {
        guard let json = try? JSON.parse(value), let at = json["atMs"]?.intValue,
              let position = json["position"].flatMap(ClusterPosition.init(json:)) else { return nil }
        self.field = field
        atMs = at
        applied = json["applied"]?.stringValue.flatMap(StreamID.init) ?? position.lastID
        seenMs = json["seenMs"]?.intValue ?? Int64(clamping: position.lastID.ms)
        halted = json["halted"]?.boolValue ?? false
        joining = json["joining"]?.boolValue ?? false
    }

    init(field: String, applied: StreamID, seenMs: Int64, atMs: Int64) {
        self.field = field
        self.applied = applied
        self.seenMs = seenMs
        self.atMs = atMs
    }
}

/// Flow control (docs/cluster.md#bounded-staleness-flow-control): what this node knows of every node's
/// progress, and whether the slowest live one is too far behind for this node to take writes.
/// Pure bookkeeping; `ClusterNode` feeds it from the nodes hash and its own reader.
struct ClusterFlowControl {
    /// The other nodes, from the last read of the nodes hash.
    var peers: [ClusterPeer] = [] {
        didSet { peersHead = peers.map(\.applied).max() ?? .zero }
    }
    /// The newest entry a peer applied.
    private(set) var peersHead: StreamID = .zero
    /// Writes of this node's clients refused because a node lagged, for `/metrics`.
    var refused = 0
    /// Set by a refusal: the refused connection's next request is read after a pause.
    var pauseNext = false

    /// The slowest live node and its lag in ms, or nil when no node lags at all. A peer that
    /// applied `head` (the newest entry this node knows of) lags 0 whatever its clock says; one
    /// that did not lags since `seenMs`. A peer silent for more than `timeoutMs` is gone: it no
    /// longer counts (as for trimming). `own` is this node's lag, measured locally.
    func slowest(own: (field: String, lagMs: Int64), head: StreamID, nowMs: Int64, timeoutMs: Int64) -> (field: String, lagMs: Int64)? {
        var worst = own
        for p in peers where p.field != own.field && !p.halted && !p.joining && nowMs - p.atMs <= timeoutMs {
            let lag = p.applied >= head ? 0 : max(0, nowMs - p.seenMs)
            if lag > worst.lagMs { worst = (p.field, lag) }
        }
        return worst.lagMs > 0 ? worst : nil
    }

    /// Parses HGETALL's flat `[field, value, …]`, skipping what is not a node entry.
    static func peers(fieldsAndValues items: [RedisReply]) -> [ClusterPeer] {
        var out: [ClusterPeer] = []
        var i = 0
        while i + 1 < items.count {
            if let f = items[i].text, let v = items[i + 1].text, let p = ClusterPeer(field: f, value: v) { out.append(p) }
            i += 2
        }
        return out
    }
}

extension ServerError {
    /// A write refused because a node is too far behind the log (docs/cluster.md#bounded-staleness-flow-control).
    static func clusterLagging(node: String, lagMs: Int64, isSelf: Bool, maxLagMs: Int64) -> ServerError {
        let who = isSelf ? "this node (\(node)) is" : "node \(node) is"
        return ServerError(
            .clusterUnavailable,
            "The cluster log is unavailable: \(who) \(lagMs) ms behind the cluster log, above cluster.maxLagMs (\(maxLagMs) ms); writes are refused until it catches up (a node that stopped counts until cluster.nodeTimeoutMs): retry later",
            details: ["applied": "no", "node": .string(node), "lagMs": .int(lagMs)])
    }
}
