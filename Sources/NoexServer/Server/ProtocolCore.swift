import CUV
import NoexJSON
import NoexLoop
import NoexRules
import NoexStore

/// The protocol server proper, driven by transport events on the loop thread: welcome,
/// envelope, auth → rate limit → route → respond (docs/protocol/envelope.md), subscriptions and pushes,
/// heartbeat pings, shutdown notices, the connection registry and stats.
///
/// Loop-confined and deliberately not Sendable. Every inbound frame of a connection is handled
/// to completion before the next, so answers come back in request order.
public final class ProtocolCore {
    /// Unchecked exclusivity (as the per-request properties below): read on every request
    /// (the answer's size limit), loop-confined, replaced only between requests.
    @exclusivity(unchecked) public internal(set) var config: ServerConfig
    let store: Store
    let clock: ServerClock
    /// Set once by the owner before any event arrives.
    weak var transportRef: (any ProtocolTransport)?
    var transport: any ProtocolTransport { transportRef! }

    /// Unchecked exclusivity: read on every request (`auth` decides the gate and the session
    /// work), loop-confined, never accessed while an inout access to it is open.
    @exclusivity(unchecked) var gate: AuthGate
    var authOps: AuthOperations
    var storeOps: StoreOperations
    /// Durable storage and its output gate (CommitGate.swift); nil in memory mode.
    var commitGate: CommitGate?
    let rules: RuleEngine?
    var rulesOps: RulesOperations?
    var connections: [ConnectionID: ConnectionState] = [:]
    /// The connection the latest message came from. One read usually brings several messages
    /// of one connection, and comparing its id costs a fraction of hashing it for
    /// `connections` (~260 instructions per message; bench/README.md, issue 13, fifth round).
    /// Cleared when that connection closes, so it never outlives its entry. Unchecked
    /// exclusivity as the per-request properties below.
    @exclusivity(unchecked) private var lastConnection: ConnectionState?
    var perAddressCount: [String: Int] = [:]
    var nextConnectionNumber = 1
    var nextSubscriptionNumber = 1
    var totalSubscriptions = 0
    /// Unchecked exclusivity: read on every request, loop-confined, each access (the
    /// pipeline's `consume`, the sweep's `prune`) complete before any other begins.
    @exclusivity(unchecked) var rateLimiter: RateLimiter?
    var blacklist: SessionBlacklist
    /// The audit log (ProtocolCore+Audit.swift); nil when not configured.
    var audit: AuditLog?
    /// False from `stop` on; late handshakes are closed with 1001.
    public internal(set) var isRunning = true
    /// While a store request runs, its subscription pushes wait here and go out after its answer.
    /// Unchecked exclusivity (as the other per-request properties marked so): loop-confined,
    /// and never accessed while an inout access to it is open, so the dynamic check each
    /// access would cost (~150 instructions) buys nothing (bench/README.md, issue 13).
    @exclusivity(unchecked) var deferredPushes: [OutgoingPush]?
    /// Set by an operation whose answer needs the threadpool (`ProtocolCore+Async.swift`).
    @exclusivity(unchecked) var deferredAnswer: DeferredAnswer?
    /// The bytes of the latest result answer, kept so the next one reuses the memory (the
    /// transport copies an answer into its write queue). If anything still holds the buffer,
    /// copy-on-write gives the next answer a fresh one, so sharing it is always safe.
    @exclusivity(unchecked) var answerBuffer: [UInt8] = []
    /// Above this capacity the buffer is not kept (one large answer must not pin its memory).
    static let answerBufferKeptBytes = 64 << 10
    /// The serialised data of the latest subscription push, by store evaluation id.
    /// Unchecked exclusivity, as the push counters and `deltaStreams` below: read or written
    /// once per push, loop-confined, never accessed while an inout access to it is open.
    @exclusivity(unchecked) private var pushData: (evaluation: UInt64, bytes: [UInt8])?
    /// `ServerMessage.subscriptionPushTail`, kept here: a static is reached through a lazy
    /// initialiser check on every read.
    private let pushTail = ServerMessage.subscriptionPushTail
    /// What store subscriptions' listeners hold of the core (see `WeakCore`).
    private let weakCore = WeakCore()
    /// Delta subscriptions' streams and shared delta bodies (ProtocolCore+Delta.swift).
    @exclusivity(unchecked) var deltaStreams = DeltaStreams()
    /// Pushes handed to the transport so far (counters for stats and tests).
    @exclusivity(unchecked) public private(set) var pushesSent = 0
    /// Event pushes the transport dropped because their client was over the hard write limit
    /// (docs/protocol/deviations.md, item 1), over the server's lifetime, closed connections included.
    @exclusivity(unchecked) public private(set) var pushesDropped = 0
    /// Per-operation request/error counters and push outcomes for `/metrics`.
    let metrics = ProtocolMetrics()
    /// Built-in identity (docs/identity.md); nil in the other auth modes.
    var identity: IdentityManager?
    /// The loop whose threadpool runs password hashing; nil when a test transport drives the
    /// core (the work then runs inline).
    var loop: UnsafeMutablePointer<uv_loop_t>?
    /// Password hashes started and waiting to start (`ProtocolCore+Async.swift`).
    var hashesRunning = 0
    var hashQueue: [() -> Bool] = []
    /// The identity cache generation whose permissions the live subscriptions were checked against.
    var checkedIdentityGeneration = 0
    /// Cluster mode (ProtocolCore+Cluster.swift): the node, and the command a write request
    /// turned into, appended once the request's pipeline finished.
    var cluster: ClusterNode?
    var clusterWrite: ClusterAppend?

    public init(config: ServerConfig, clock: ServerClock) {
        self.config = config
        self.store = config.store
        self.clock = clock
        gate = AuthGate(auth: config.auth)
        authOps = AuthOperations(auth: config.auth)
        storeOps = StoreOperations(store: config.store)
        rules = config.rules
        rulesOps = config.rules.map(RulesOperations.init)
        rateLimiter = config.rateLimit.map { RateLimiter(maxRequests: $0.maxRequests, windowMs: $0.windowMs) }
        blacklist = SessionBlacklist(ttlMs: config.revocation.blacklistTtlMs)
        audit = Self.makeAuditLog(config)
        weakCore.core = self
    }

    // MARK: - Transport events

    /// A handshake completed: refuse it (1001 while stopping, 4003 over the per-address limit)
    /// or register the connection and send the welcome.
    public func connectionOpened(_ id: ConnectionID, remoteAddress: String) {
        guard isRunning else {
            transport.close(id, code: 1001, reason: "server_shutting_down")
            return
        }
        if let max = config.maxConnectionsPerIp, perAddressCount[remoteAddress, default: 0] >= max {
            transport.close(id, code: 4003, reason: "too_many_connections")
            return
        }
        perAddressCount[remoteAddress, default: 0] += 1
        let n = nextConnectionNumber
        nextConnectionNumber += 1
        let now = clock.wallMs()
        connections[id] = ConnectionState(id: id, connectionId: "conn-\(n)", number: n,
                                          remoteAddress: remoteAddress, connectedAt: now)
        send(id, ServerMessage.welcome(serverTimeMs: now, requiresAuth: gate.requiresAuth))
    }

    /// The socket is gone: remove every subscription and the registry entry.
    public func connectionClosed(_ id: ConnectionID) {
        if lastConnection?.id == id { lastConnection = nil }
        guard let state = connections.removeValue(forKey: id) else { return }
        removeAllSubscriptions(state)
        let left = perAddressCount[state.remoteAddress, default: 1] - 1
        perAddressCount[state.remoteAddress] = left > 0 ? left : nil
    }

    /// One complete text message, borrowed for the call: it is read in place and copied only
    /// when it must wait behind a request in flight.
    public func textReceived(_ id: ConnectionID, _ bytes: UnsafeRawBufferPointer) {
        let state: ConnectionState
        if let last = lastConnection, last.id == id {
            state = last
        } else {
            guard let found = connections[id] else { return }
            lastConnection = found
            state = found
        }
        if state.inFlight {
            queueBehindInFlight(state, Array(bytes))
            return
        }
        process(state, bytes)
    }

    /// One complete text message (tests and the fuzz targets hand over arrays).
    public func textReceived(_ id: ConnectionID, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { textReceived(id, $0) }
    }

    func process(_ state: ConnectionState, _ bytes: UnsafeRawBufferPointer) {
        if fastGetAllowed, answeredFastGet(state, bytes) { return }
        let id = state.id
        let message = Envelope.classify(bytes: bytes)
        // Consumed, so the request (and its `data` object) has one owner: an insert can then
        // take the object and grow it into the record in place (issue 13, fourth round).
        switch consume message {
        case .invalid(let error):
            metrics.countInvalid(error.code)
            send(id, ServerMessage.error(id: 0, error, exposeDetails: false))
        case .pong(let timestamp):
            if timestamp >= Double(state.lastPingAt) { transport.pongReceived(id) }
        case .request(var request):
            handle(&request, state)
        }
    }

    /// The transport says a heartbeat ping is due.
    public func heartbeatDue(_ id: ConnectionID) {
        guard connections[id] != nil else { return }
        let now = clock.wallMs()
        connections[id]?.lastPingAt = now
        send(id, ServerMessage.ping(timestampMs: now))
    }

    /// `stop` began with a grace period: tell every client.
    public func stopping(gracePeriodMs: Int64) {
        isRunning = false
        guard gracePeriodMs > 0 else { return }
        let frame = ServerMessage.shutdown(gracePeriodMs: gracePeriodMs).serializedBytes
        for id in connections.keys { transport.send(id, text: frame, kind: .response) }
    }

    /// Periodic housekeeping from the loop's sweep timer: roll rate-limit windows, forget
    /// expired revocations.
    public func sweep() {
        rateLimiter?.prune(nowMs: clock.monotonicMs())
        blacklist.prune(nowMs: clock.wallMs())
        if gate.auth != nil { expireSessions() }
        identity?.limiter.prune(nowMs: clock.monotonicMs())
        if cluster != nil { expireClusterWrites() }
    }

    // MARK: - Request pipeline

    /// `request` is inout only so that a handler may take a member it consumes (`store.insert`
    /// takes `data`); everything after the pipeline reads `id`, `type` and the other members.
    private func handle(_ request: inout Request, _ state: ConnectionState) {
        // Without auth no operation can set a session (auth.*, identity.* and the gate all need
        // it), so there is no session to compare after the request: skip the copy and the check.
        // A literal nil, not a local that may hold a session: destroying such a local went
        // through the type's value witness (~200 instructions per request).
        if gate.auth == nil {
            handle(&request, state, sessionBefore: nil)
        } else {
            handle(&request, state, sessionBefore: state.session)
        }
    }

    private func handle(_ request: inout Request, _ state: ConnectionState, sessionBefore: borrowing AuthSession?) {
        let op = metrics.countRequest(request.operation)
        let writesBefore = commitGate?.durable.mutationCount
        let result: Result<JSON, ServerError>
        do throws(ServerError) {
            result = .success(try pipeline(&request, state))
        } catch {
            result = .failure(error)
        }
        if let deferred = deferredAnswer {
            // Answered later, from the threadpool's completion (ProtocolCore+Async.swift).
            deferredAnswer = nil
            startDeferred(deferred, request, state, op: op, sessionBefore: sessionBefore)
            flushDeferredPushes()
            return
        }
        // Only a cluster node sets `clusterWrite`; testing `cluster` first skips copying and
        // destroying the (large) optional on every request of a single server.
        if cluster != nil, let command = clusterWrite {
            // Answered when this node applies the entry (ProtocolCore+Cluster.swift).
            clusterWrite = nil
            appendClusterWrite(command, request, state, op: op, sessionBefore: sessionBefore)
            return
        }
        finishRequest(request, state, op: op, consume result, writesBefore: writesBefore, sessionBefore: sessionBefore)
        if cluster != nil { pauseAfterLagRefusal(state) }
    }

    /// The one place where a request finished with its answer, synchronous or deferred: send it,
    /// then the pushes it caused, then re-check subscriptions if the session or permissions changed.
    /// `result` is consumed and switched on as consumed: its payload is released where it is
    /// read, instead of the whole `Result` being destroyed afterwards through its type's value
    /// witness (~70 instructions per request).
    func finishRequest(_ request: Request, _ state: ConnectionState, op: Int, _ result: consuming Result<JSON, ServerError>,
                       writesBefore: Int?, sessionBefore: AuthSession?) {
        let answer: [UInt8]
        var failure: ServerError?
        switch consume result {
        case .success(let data):
            ServerMessage.writeResult(id: request.id, data: data, into: &answerBuffer)
            answer = answerBuffer
        case .failure(let error):
            failure = error
            metrics.countError(op, error.code)
            answer = ServerMessage.error(id: request.id, error, exposeDetails: config.exposeErrorDetails).serializedBytes
        }
        // The answer of a write fails with the write if its commit fails.
        if let g = commitGate, g.durable.mutationCount != writesBefore { g.writeReplyID = request.id }
        // Before the send: with durable storage the entry joins this answer's commit batch.
        recordAudit(request, state, failure: failure)
        if !respond(state.id, answer, requestID: request.id) { metrics.countError(op, .backpressure) }
        if answerBuffer.capacity > Self.answerBufferKeptBytes { answerBuffer = [] }
        flushDeferredPushes()
        if gate.auth != nil { sessionMayHaveChanged(state, from: sessionBefore) }
        if let identity, identity.generation != checkedIdentityGeneration { permissionsChanged() }
    }

    /// Auth check → rate limit → route (docs/protocol/envelope.md).
    private func pipeline(_ request: inout Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        // Without auth the gate passes everything: skip the call and its inout access to the
        // session (a dynamic exclusivity check per request).
        if gate.auth != nil, let denied = gate.check(request, session: &state.session, nowMs: clock.wallMs(),
                                                     queryBuckets: store.bucketsRead(byQuery:)) { throw denied }
        if rateLimiter != nil {
            let key = state.session?.userId ?? state.remoteAddress
            if case .limited(let retry) = rateLimiter!.consume(key: key, nowMs: clock.monotonicMs()) {
                throw ServerError.rateLimitExceeded(retryAfterMs: retry)
            }
        }
        return try route(&request, state)
    }

    private func route(_ r: inout Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        let type = r.type
        if cluster != nil, try clusterTakes(r, state) { return .null }
        // The table's store operations by number; a `store.` type outside it still reaches
        // the store handler, which names it in its UNKNOWN_OPERATION answer.
        if r.operation.isStore || (r.operation == .other && type.hasPrefix("store.")) {
            switch r.operation {
            case .storeSubscribe:
                try storeOps.systemBuckets.check(r, queryBuckets: store.bucketsRead(byQuery:))
                return try subscribe(r, state)
            case .storeUnsubscribe: return try unsubscribe(r, state)
            default:
                deferredPushes = deferredPushes ?? []
                let data = try storeOps.handle(&r)
                if let identity, let name = r["name"]?.stringValue {
                    identity.storeAdminSucceeded(type, name: name, userId: state.session?.userId, nowMs: clock.wallMs())
                }
                return data
            }
        }
        if type.hasPrefix("rules.") {
            guard let rulesOps else { throw .rulesNotConfigured }
            switch type {
            case "rules.subscribe": return try subscribeRules(r, state)
            case "rules.unsubscribe": return try unsubscribeRules(r, state)
            default: return try rulesOps.handle(r)
            }
        }
        if type.hasPrefix("identity.") { return try routeIdentity(r, state) }
        if type.hasPrefix("auth.") {
            return try authOps.handle(r, session: &state.session, blacklist: blacklist, nowMs: clock.wallMs())
        }
        if type.hasPrefix("audit.") { return try auditOperation(r) }
        if type.hasPrefix("procedures.") {
            deferredPushes = deferredPushes ?? []  // pushes of a call's steps go out after its answer
            return try routeProcedures(r, state)
        }
        if type.hasPrefix("server.") {
            switch type {
            case "server.stats": return statsJSON(includeListener: false)
            case "server.connections": return .array(connectionInfos())
            default: throw .unknownOperation(type, in: "server")
            }
        }
        throw .unknownOperation(type)
    }

    // MARK: - Subscriptions (docs/protocol/store-operations.md#subscriptions)

    private func checkSubscriptionLimits(_ state: ConnectionState) throws(ServerError) {
        let limits = config.connectionLimits
        if state.subscriptionCount >= limits.maxSubscriptionsPerConnection {
            throw .subscriptionLimit(perConnection: limits.maxSubscriptionsPerConnection)
        }
        if totalSubscriptions >= limits.maxTotalSubscriptions {
            throw .globalSubscriptionLimit(limits.maxTotalSubscriptions)
        }
    }

    private func subscribe(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        try checkSubscriptionLimits(state)
        let query = try r.nonEmptyString("query")
        let delta = try deltaRequested(r)
        let n = nextSubscriptionNumber
        let wireID = "sub-\(n)"
        let conn = state.id
        let subscription: (id: SubscriptionID, result: JSON)
        // A full-result push is this head, the shared data and a brace: the head is built once here.
        let head = delta ? [] : ServerMessage.subscriptionPushHead(subscriptionId: wireID)
        let weakCore = self.weakCore
        do throws(StoreError) {
            subscription = try store.subscribeUpdates(query: query, params: r.optional("params")) { update in
                guard let self = weakCore.core else { return }
                if delta {
                    self.pushDelta(conn, wireID: wireID, number: UInt64(n), update)
                } else {
                    self.pushSubscription(conn, head: head, key: UInt64(n), update)
                }
            }
        } catch {
            throw ServerError(error)
        }
        nextSubscriptionNumber += 1
        state.storeSubscriptions[wireID] = subscription.id
        state.subscriptionRequests[wireID] = r
        totalSubscriptions += 1
        if delta {
            startDeltaStream(subscription: n, query: query)
            return ["subscriptionId": .string(wireID), "data": subscription.result, "seq": 0]
        }
        return ["subscriptionId": .string(wireID), "data": subscription.result]
    }

    private func unsubscribe(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        let wireID = try r.nonEmptyString("subscriptionId")
        guard state.storeSubscriptions[wireID] != nil else { throw .subscriptionNotFound(wireID) }
        removeSubscription(state, wireID)
        return ["unsubscribed": true]
    }

    private func subscribeRules(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        try checkSubscriptionLimits(state)
        let pattern = try r.nonEmptyString("pattern")
        let wireID = "sub-\(nextSubscriptionNumber)"
        nextSubscriptionNumber += 1
        let conn = state.id
        let sub = rules!.subscribe(pattern: pattern) { [weak self] event in
            self?.push(conn, ServerMessage.eventPush(subscriptionId: wireID, topic: event.topic, event: event.json), kind: .push)
        }
        state.rulesSubscriptions[wireID] = sub
        state.subscriptionRequests[wireID] = r
        totalSubscriptions += 1
        return ["subscriptionId": .string(wireID)]
    }

    private func unsubscribeRules(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        let wireID = try r.nonEmptyString("subscriptionId")
        guard state.rulesSubscriptions[wireID] != nil else { throw .subscriptionNotFound(wireID) }
        removeSubscription(state, wireID)
        return ["unsubscribed": true]
    }

    // MARK: - Output

    /// Sends an answer. If the connection is over its hard write limit the answer is replaced
    /// by a small `BACKPRESSURE` error (docs/protocol/deviations.md, item 1).
    /// Returns false when the answer was replaced.
    func respond(_ id: ConnectionID, _ answer: [UInt8], requestID: JSON) -> Bool {
        var bytes = answer
        let hard = config.backpressure.maxBufferedBytes
        var replaced = false
        let transport = self.transport  // one load of the weak reference, not two
        if let buffered = transport.bufferedBytes(id), buffered + bytes.count > hard {
            bytes = ServerMessage.error(id: requestID, .backpressure, exposeDetails: false).serializedBytes
            replaced = true
        }
        transport.send(id, text: bytes, kind: .response)
        return !replaced
    }

    private func send(_ id: ConnectionID, _ message: JSON) {
        transport.send(id, text: message.serializedBytes, kind: .response)
    }

    /// A full-result subscription push. Subscribers of the same query and params share one
    /// evaluation per change, so its data is serialised once (`pushData`); each subscriber's
    /// push is its own head (built at subscribe time), that data and a brace, handed to the
    /// transport as three pieces (no per-subscriber message is put together).
    private func pushSubscription(_ id: ConnectionID, head: [UInt8], key: UInt64, _ update: QueryUpdate) {
        let data: [UInt8]
        if let cached = pushData, cached.evaluation == update.evaluation {
            data = cached.bytes
        } else {
            data = update.result.serializedBytes
            pushData = (update.evaluation, data)
        }
        push(OutgoingPush(id: id, head: head, body: data, kind: .coalescingPush(key: key)))
    }

    /// A push from a store or rules callback; held back while a store request is being
    /// answered so the answer goes first.
    func push(_ id: ConnectionID, _ message: JSON, kind: SendKind) {
        push(id, message.serializedBytes, kind: kind)
    }

    func push(_ id: ConnectionID, _ bytes: [UInt8], kind: SendKind) {
        push(OutgoingPush(id: id, head: [], body: bytes, kind: kind))
    }

    private func push(_ push: OutgoingPush) {
        if deferredPushes != nil {
            deferredPushes!.append(push)
            return
        }
        sendPush(push.id, push.head, push.body, push.kind, transport)
    }

    /// Never inlined: bench/callgrind.sh counts fan-out pushes by the calls of this function.
    @inline(never)
    private func sendPush(_ id: ConnectionID, _ head: borrowing [UInt8], _ body: borrowing [UInt8], _ kind: SendKind,
                          _ transport: any ProtocolTransport) {
        let result = head.isEmpty
            ? transport.send(id, text: copy body, kind: kind)
            : transport.send(id, head: copy head, body: copy body, tail: pushTail, kind: kind)
        metrics.countPush(result)
        if result == .dropped {
            pushesDropped += 1
            connections[id]?.droppedPushes += 1
            deltaStreams.dropped(kind)
        }
        pushesSent += 1
    }

    func flushDeferredPushes() {
        guard let pending = deferredPushes else { return }
        deferredPushes = nil
        let transport = self.transport  // one load of the weak reference for the whole fan-out
        // Through the buffer, so that each push is lent to `sendPush`, not copied out and destroyed.
        pending.withUnsafeBufferPointer { pushes in
            for i in pushes.indices {
                let p = pushes.baseAddress! + i
                sendPush(p.pointee.id, p.pointee.head, p.pointee.body, p.pointee.kind, transport)
            }
        }
    }

    // MARK: - Registry, stats, revocation (docs/protocol/auth.md#server-operations)

    /// One ConnectionInfo per live connection, in connection order. `withCounters` (the Swift
    /// API's `getConnections()`, not the wire's `server.connections`) adds `droppedPushes`.
    public func connectionInfos(withCounters: Bool = false) -> [JSON] {
        connections.values.sorted { $0.number < $1.number }.map { c in
            guard withCounters, case .object(var o) = c.info else { return c.info }
            o["droppedPushes"] = .int(Int64(c.droppedPushes))
            return .object(o)
        }
    }

    public var connectionCount: Int { connections.count }

    /// `server.stats` (without listener facts) or `getStats()` (with `port`, `host`, `uptimeMs`).
    func statsJSON(includeListener: Bool, port: Int = 0, uptimeMs: Int64 = 0) -> JSON {
        var o: JSONObject = ["name": .string(config.name)]
        if includeListener {
            o["port"] = .int(Int64(port))
            o["host"] = .string(config.host)
        }
        o["connectionCount"] = .int(Int64(connections.count))
        if includeListener { o["uptimeMs"] = .int(uptimeMs) }
        o["authEnabled"] = .bool(config.auth != nil)
        o["rateLimitEnabled"] = .bool(config.rateLimit != nil)
        o["rulesEnabled"] = .bool(rules != nil)
        var storeSubs = 0
        var rulesSubs = 0
        var authenticated = 0
        for c in connections.values {
            storeSubs += c.storeSubscriptions.count
            rulesSubs += c.rulesSubscriptions.count
            if c.session != nil { authenticated += 1 }
        }
        o["connections"] = [
            "active": .int(Int64(connections.count)), "authenticated": .int(Int64(authenticated)),
            "totalStoreSubscriptions": .int(Int64(storeSubs)), "totalRulesSubscriptions": .int(Int64(rulesSubs)),
        ]
        o["store"] = .object(store.stats())
        o["rules"] = rules?.stats().json ?? .null
        // Our extension, in getStats() only (the wire's server.stats keeps the original's shape).
        if includeListener { o["pushes"] = ["sent": .int(Int64(pushesSent)), "dropped": .int(Int64(pushesDropped))] }
        return .object(o)
    }

    /// Blacklists the user and closes their connections with 4002 after a system message.
    @discardableResult
    public func revokeSessions(userId: String? = nil, role: String? = nil) -> Int {
        let now = clock.wallMs()
        var matched = 0
        let notice = ServerMessage.sessionRevoked.serializedBytes
        for state in connections.values.sorted(by: { $0.number < $1.number }) {
            guard let s = state.session else { continue }
            if let userId, s.userId != userId { continue }
            if let role, !s.roles.contains(role) { continue }
            blacklist.revoke(s.userId, nowMs: now)
            removeAllSubscriptions(state)  // nothing may be pushed after the notice
            transport.send(state.id, text: notice, kind: .response)
            transport.close(state.id, code: 4002, reason: "session_revoked")
            matched += 1
        }
        if let userId { blacklist.revoke(userId, nowMs: now) }
        return matched
    }
}

@available(*, unavailable)
extension ProtocolCore: Sendable {}

/// The core as a store subscription's listener holds it: weakly (the store may outlive the
/// core), in a box shared by all listeners. A `[weak self]` capture is a mutable box of its
/// own whose every read costs a dynamic exclusivity check (~80 instructions per push); this
/// one is read on the loop thread only and never inside an access to itself.
final class WeakCore {
    @exclusivity(unchecked) weak var core: ProtocolCore?
}
