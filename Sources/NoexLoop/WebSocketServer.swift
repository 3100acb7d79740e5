// The loop owner: TCP listen/accept, reads into the slab's pure state machines, the flush of
// write queues before each poll, the sweep timer, and the staged shutdown. Sockets are driven
// through the server's own epoll set (`SocketSet`, one uv_poll_t) with plain read/send calls.
// All C callbacks are file-scope trampolines at the end of this file; they resolve the server
// from `loop.data` and the connection from the epoll event's data (a packed ConnectionID), then
// call one method.
import CUV

#if canImport(Glibc)
    import Glibc
#endif

/// A WebSocket server on one libuv loop. Loop-confined: every method must be called on the
/// loop's thread (use `stopHandle` from other threads).
///
/// Lifetime: `loop.data` points at this object unretained; whoever calls `run()` keeps it alive
/// for the duration (`run` itself does, via `withExtendedLifetime`).
public final class WebSocketServer {
    public let loop: UnsafeMutablePointer<uv_loop_t>
    public let config: WebSocketServerConfig
    /// The closing deadline and heartbeat every connection's state machine is driven with.
    let timing: ConnectionTiming
    /// Receives events. Held strongly: the delegate should not hold the server strongly
    /// (every callback passes the server in).
    @exclusivity(unchecked) public var delegate: (any WebSocketServerDelegate)?
    /// Runs before each poll, ahead of the write flush (the owner's group commit).
    public var beforeFlush: (() -> Void)?

    let connections = Slab<Connection>()
    let timers = Slab<LoopTimer>()
    private var listener: Listener?
    /// The epoll set every connection's socket is in (nil before `start` and after the stop).
    private var sockets: SocketSet?
    /// Connections closed since the last reclaim: their slots are freed at the end of the
    /// current dispatch (socket events, or the prepare callback), not inside the call that
    /// closed them, so code further up the stack still finds the closed connection and the
    /// stop's bookkeeping runs exactly once.
    @exclusivity(unchecked) private var closedSlots: [ConnectionID] = []
    private var prepare: UnsafeMutablePointer<uv_prepare_t>?
    private var sweep: UnsafeMutablePointer<uv_timer_t>?
    private var signals: [UnsafeMutablePointer<uv_signal_t>] = []
    private var stopper: StopHandle?
    /// Upgrade parsers of the connections still in their HTTP handshake (dropped at its end,
    /// so an open connection does not carry one).
    private var handshakes: [ConnectionID: HTTPUpgradeParser] = [:]
    /// Emptied buffers of completely written batches, reused by the next batches instead of one
    /// allocation per connection and turn. Bounded in their total and in each buffer's capacity:
    /// they hold at most `spareBufferBudget` bytes. The count is not capped on its own: one
    /// wake-up may answer on hundreds of connections (1000 × 1 in flight: ~180 per epoll wait)
    /// before any batch is written, and each needs a buffer of its own.
    @exclusivity(unchecked) private var spareBuffers: [[UInt8]] = []
    /// The capacity of the buffers in `spareBuffers`, summed.
    @exclusivity(unchecked) private var spareBytes = 0
    static let spareBufferBudget = 1 << 20
    static let spareBufferMaxBytes = 16 << 10
    /// Connections with pending bytes, flushed by the prepare callback.
    @exclusivity(unchecked) private var dirty: [ConnectionID] = []
    /// One loop-wide read buffer: every socket is read into it on this thread, and the parsers
    /// copy out what they keep.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
    /// Compressors for messages compressed on their own (nil without compression).
    let sharedCompressors: SharedCompressors?
    /// Payloads from this size on are compressed on connections that negotiated
    /// permessage-deflate (`Int.max` without compression).
    let compressionThreshold: Int
    /// The bound port (the real one when `config.port` was 0); 0 before `start`.
    public private(set) var port = 0
    /// Bytes in/out, accepted sockets and loop lag, for monitoring.
    @exclusivity(unchecked) public internal(set) var counters: TransportCounters
    /// Keep accepting during a stop's grace period (closed when the grace ends), so that plain
    /// requests such as a health probe are still answered while connections drain. WebSocket
    /// handshakes in that time still complete; the delegate decides what to do with them (the
    /// noex protocol closes them with 1001).
    public var listensDuringGrace = false

    /// Shutdown progress.
    private enum StopPhase: Equatable {
        case running
        /// Connections work normally until the deadline (or until none is left).
        case grace(deadlineMs: UInt64)
        /// Close frames were sent; remaining sockets are force-closed at the deadline.
        case closing(deadlineMs: UInt64)
        /// Internal handles are closed; `run()` returns once their close callbacks ran.
        case stopped
    }
    private var stopPhase = StopPhase.running
    private var stopOptions = StopOptions()
    /// How a watched signal stops the server (nil: `config.stop`).
    private var signalStopOptions: StopOptions?
    /// Accept failures since start (EMFILE, ENFILE, ENOMEM, ...).
    public private(set) var acceptErrors = 0
    /// Accept failures not yet reported to the delegate (reports are at most one per second).
    private var unreportedAcceptErrors = 0
    /// Loop time of the last accept-error report.
    private var lastAcceptErrorReportMs: UInt64?
    /// The newest accept failure's code (what a report names).
    private var lastAcceptError: Int32 = 0
    /// Current pause after accept failures (0 after a success) and when it ends.
    private var acceptBackoffMs: UInt64 = 0
    private var acceptPausedUntilMs: UInt64?

    public init(loop: UnsafeMutablePointer<uv_loop_t>, config: WebSocketServerConfig) {
        self.loop = loop
        self.config = config
        timing = ConnectionTiming(closingTimeoutMs: config.closingTimeoutMs, heartbeat: config.heartbeat)
        counters = TransportCounters(sweepIntervalMs: config.sweepIntervalMs)
        sharedCompressors = config.compression.map(SharedCompressors.init)
        compressionThreshold = config.compression?.threshold ?? Int.max
        uv_loop_set_data(loop, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        readBuffer.deallocate()
    }

    static func from(_ loop: UnsafeMutablePointer<uv_loop_t>?) -> WebSocketServer {
        Unmanaged<WebSocketServer>.fromOpaque(uv_loop_get_data(loop!)).takeUnretainedValue()
    }

    // MARK: - Start, run, stop

    /// Binds, listens and starts the prepare (flush) and sweep handles. On error nothing stays
    /// open except handles already being closed; run the loop once to finish them.
    public func start() throws(UVError) {
        precondition(listener == nil && stopPhase == .running, "start() called twice")
        // A client that resets its connection while answers are queued must not kill the server.
        ignoreBrokenPipes()
        switch Listener.open(loop: loop, host: config.host, port: config.port, backlog: config.backlog,
                             onReadable: onAcceptReadyTrampoline) {
        case .success(let l):
            listener = l
            port = l.port
        case .failure(let error):
            throw error
        }
        switch SocketSet.open(loop: loop, onReady: onSocketsReadyTrampoline) {
        case .success(let set):
            sockets = set
        case .failure(let error):
            abandonStart()
            throw error
        }
        var rc: Int32 = 0

        // uv_prepare_init and uv_timer_init cannot fail on a valid loop; the async handle needs
        // an eventfd and can (EMFILE). Whatever fails, what was opened is closed again.
        let p = UnsafeMutablePointer<uv_prepare_t>.allocate(capacity: 1)
        rc = uv_prepare_init(loop, p)
        guard rc == 0 else {
            p.deallocate()
            abandonStart()
            throw UVError(rc)
        }
        prepare = p
        rc = uv_prepare_start(p, onPrepareTrampoline)

        let t = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
        if rc == 0 {
            rc = uv_timer_init(loop, t)
            if rc == 0 {
                sweep = t
                rc = uv_timer_start(t, onSweepTrampoline, config.sweepIntervalMs, config.sweepIntervalMs)
            } else {
                t.deallocate()
            }
        } else {
            t.deallocate()
        }
        if rc == 0 {
            do { stopper = try StopHandle(loop: loop) } catch { rc = error.code }
        }
        guard rc == 0 else {
            abandonStart()
            throw UVError(rc)
        }
        counters.loopLag.armed(nowMs: nowMs)
    }

    /// A failed `start` after the listener was bound: close every handle it opened (their close
    /// callbacks free them when the loop runs once more) and leave the server unstarted.
    private func abandonStart() {
        closeListener()
        sockets?.close()
        sockets = nil
        for h in [prepare.map { asHandle($0) }, sweep.map { asHandle($0) }] {
            if let h { uv_close(h, onHandleClosedFree) }
        }
        prepare = nil
        sweep = nil
        stopPhase = .stopped
    }

    /// Stops accepting: closes the listening socket and its poll handle.
    private func closeListener() {
        listener?.close()
        listener = nil
    }

    /// Runs the loop until the server has stopped and every handle is closed. Returns
    /// `uv_run`'s result.
    @discardableResult
    public func run() -> Int32 {
        withExtendedLifetime(self) { uv_run(loop, UV_RUN_DEFAULT) }
    }

    /// A thread-safe handle that stops this server from any thread (nil before `start`).
    public var stopHandle: StopHandle? { stopper }

    /// Stops on these signals (e.g. SIGINT, SIGTERM) with `options` (`config.stop` when nil).
    /// A second signal during the grace period ends it: connections are closed at once. Throws
    /// when libuv cannot watch a signal (the watchers set up so far stay).
    public func stopOnSignals(_ signums: [Int32], options: StopOptions? = nil) throws(UVError) {
        signalStopOptions = options
        for signum in signums {
            let s = UnsafeMutablePointer<uv_signal_t>.allocate(capacity: 1)
            var rc = uv_signal_init(loop, s)
            guard rc == 0 else {
                s.deallocate()
                throw UVError(rc)
            }
            signals.append(s)
            rc = uv_signal_start(s, onSignalTrampoline, signum)
            guard rc == 0 else { throw UVError(rc) }
        }
    }

    /// A watched signal arrived: the first one stops, one during the grace period cuts it short.
    func signalReceived() {
        if case .grace = stopPhase {
            beginClosingAll(nowMs: nowMs)
            advanceStop()
            return
        }
        stop(signalStopOptions)
    }

    /// Begins a graceful stop (idempotent): stop accepting; with a grace period, tell the
    /// delegate and let connections work until it ends or all are gone; then send close
    /// frames; after `closingTimeoutMs` close what is left; finally close the internal handles
    /// so `run()` returns and `uv_loop_close` succeeds.
    public func stop(_ options: StopOptions? = nil) {
        guard stopPhase == .running else { return }
        stopOptions = options ?? config.stop
        let grace = stopOptions.gracePeriodMs > 0 && connections.count > 0
        if !(grace && listensDuringGrace) { closeListener() }
        let now = nowMs
        if grace {
            stopPhase = .grace(deadlineMs: now &+ stopOptions.gracePeriodMs)
            delegate?.onStopping(self, gracePeriodMs: stopOptions.gracePeriodMs)
        } else {
            beginClosingAll(nowMs: now)
        }
        advanceStop()
    }

    /// Whether `stop` has been called.
    public var isStopping: Bool { stopPhase != .running }

    /// Whether the stop finished (internal handles closed): nothing new may keep the loop alive.
    public var isStopped: Bool { stopPhase == .stopped }

    private func beginClosingAll(nowMs now: UInt64) {
        closeListener()
        stopPhase = .closing(deadlineMs: now &+ config.closingTimeoutMs)
        let reason = Array(stopOptions.closeReason.utf8)
        for id in connections.ids {
            if let action = connections.withValue(id, { $0.machine.closeRequested(code: stopOptions.closeCode, reason: reason, nowMs: now, timing: timing) }) {
                execute(action, for: id)
            }
        }
    }

    /// Moves the stop forward when its condition holds; called after each change.
    private func advanceStop() {
        let now = nowMs
        switch stopPhase {
        case .running, .stopped:
            return
        case .grace(let deadline):
            if connections.count == 0 || now >= deadline { beginClosingAll(nowMs: now) }
            if case .closing = stopPhase { advanceStop() }
        case .closing(let deadline):
            if connections.count > 0 && now >= deadline {
                for id in connections.ids { forceClose(id) }
            }
            if connections.count == 0 { finishStop() }
        }
    }

    /// Closes the internal handles; the loop then runs out of work.
    private func finishStop() {
        stopPhase = .stopped
        sockets?.close()
        sockets = nil
        if let prepare { uv_close(asHandle(prepare), onHandleClosedFree) }
        if let sweep { uv_close(asHandle(sweep), onHandleClosedFree) }
        prepare = nil
        sweep = nil
        for s in signals { uv_close(asHandle(s), onHandleClosedFree) }
        signals = []
        stopper?.close()
        for id in timers.ids { cancelTimer(LoopTimerID(id)) }
        delegate?.onStopped(self)
    }

    // MARK: - Application API

    /// The loop's monotonic clock in ms (`uv_now`, updated once per loop iteration).
    public var nowMs: UInt64 { uv_now(loop) }

    /// Queues a text message. `bytes` must be valid UTF-8 (the caller's JSON serializer
    /// guarantees it; it is not re-checked). The bytes are copied (framed straight into the
    /// connection's write queue, or written to the socket), so a borrowed buffer, such as the
    /// one `onText` gets, may be passed.
    @discardableResult
    public func send(_ id: ConnectionID, text bytes: UnsafeRawBufferPointer, kind: SendKind = .response) -> SendResult {
        sendFrame(id, opcode: .text, payload: bytes, kind: kind)
    }

    /// Queues a text message (see the buffer variant).
    @discardableResult
    public func send(_ id: ConnectionID, text bytes: [UInt8], kind: SendKind = .response) -> SendResult {
        bytes.withUnsafeBytes { sendFrame(id, opcode: .text, payload: $0, kind: kind) }
    }

    /// Queues a text message.
    @discardableResult
    public func send(_ id: ConnectionID, text: String, kind: SendKind = .response) -> SendResult {
        var text = text
        return text.withUTF8 { sendFrame(id, opcode: .text, payload: UnsafeRawBufferPointer($0), kind: kind) }
    }

    /// Queues a text message whose payload is given in parts (`FrameParts`: a push's own head,
    /// its shared data and its tail), sent as one frame as if the parts were one buffer. A
    /// push to a connection with nothing queued is written from the parts with one `sendmsg`;
    /// otherwise they are copied into the queue as the text variant copies its buffer.
    @discardableResult
    public func send(_ id: ConnectionID, text parts: FrameParts, kind: SendKind) -> SendResult {
        if case .response = kind {
            let joined = parts.joined()
            return joined.withUnsafeBytes { sendFrame(id, opcode: .text, payload: $0, kind: kind) }
        }
        return sendPush(id, opcode: .text, parts, kind: kind)
    }

    /// Queues a binary message; the bytes are copied as by the text variant.
    @discardableResult
    public func send(_ id: ConnectionID, binary bytes: UnsafeRawBufferPointer, kind: SendKind = .response) -> SendResult {
        sendFrame(id, opcode: .binary, payload: bytes, kind: kind)
    }

    /// Queues a binary message.
    @discardableResult
    public func send(_ id: ConnectionID, binary bytes: [UInt8], kind: SendKind = .response) -> SendResult {
        bytes.withUnsafeBytes { sendFrame(id, opcode: .binary, payload: $0, kind: kind) }
    }

    /// Starts the closing handshake with `code` (queued behind pending messages, which are
    /// still delivered).
    public func close(_ id: ConnectionID, code: UInt16 = WebSocketCloseCode.normalClosure, reason: String = "") {
        let now = nowMs
        if let action = connections.withValue(id, { $0.machine.closeRequested(code: code, reason: Array(reason.utf8), nowMs: now, timing: timing) }) {
            execute(action, for: id)
        }
    }

    /// Records an application-level pong for the heartbeat.
    public func pongReceived(_ id: ConnectionID) {
        connections.withValue(id) { $0.machine.pongReceived() }
    }

    /// Address and accept time of an open connection.
    public func info(_ id: ConnectionID) -> ConnectionInfo? {
        connections.withValue(id) { $0.machine.wasOpened ? $0.info : nil } ?? nil
    }

    /// Pending plus in-flight outbound bytes of a connection (nil for an unknown id).
    public func bufferedBytes(_ id: ConnectionID) -> Int? {
        connections.withValue(id) { $0.writes.bufferedBytes }
    }

    /// Whether the connection is below its high-water mark (nil for an unknown id).
    public func isWritable(_ id: ConnectionID) -> Bool? {
        connections.withValue(id) { $0.writes.isWritable }
    }

    /// Pushes dropped so far on a connection (see `SendKind`).
    public func droppedPushes(_ id: ConnectionID) -> Int? {
        connections.withValue(id) { $0.writes.droppedPushes }
    }

    /// The most bytes the connection's write queue has held (nil for an unknown id).
    public func peakBufferedBytes(_ id: ConnectionID) -> Int? {
        connections.withValue(id) { $0.writes.peakBufferedBytes }
    }

    /// Whether the socket is being read: false while the write queue is above its high-water
    /// mark (nil for an unknown id).
    public func isReading(_ id: ConnectionID) -> Bool? {
        connections.withValue(id) { $0.isReading }
    }

    /// Ids of all open connections.
    public var openConnections: [ConnectionID] {
        connections.ids.filter { connections.withValue($0) { $0.machine.isOpen } == true }
    }

    /// Number of sockets in the slab, in any state.
    public var connectionCount: Int { connections.count }

    // MARK: - Accept

    /// Connections wait on the listener: accept them, each into a handle in the slab that is
    /// read from now on. The handshake deadline starts at accept.
    func acceptReady() {
        // A bounded burst per wake-up keeps reads and writes of existing connections flowing;
        // the level-triggered poll wakes us again for the rest.
        for _ in 0..<64 {
            // The listener exists exactly while connections may be accepted.
            guard let listener, acceptPausedUntilMs == nil else { return }
            switch listener.accept() {
            case .connection(let fd):
                acceptBackoffMs = 0
                adopt(fd)
            case .none:
                return
            case .retry:
                continue
            case .failed(let code):
                acceptFailed(code)
                pauseAccepting()
                return
            }
        }
    }

    /// After an accept failure: stop watching the listener for a moment (5 ms, doubling up to
    /// 1 s while failures continue), so the loop does not spin on a socket it cannot accept
    /// from; the waiting clients stay in the kernel's backlog.
    private func pauseAccepting() {
        guard let listener else { return }
        acceptBackoffMs = min(1_000, max(5, acceptBackoffMs * 2))
        acceptPausedUntilMs = nowMs &+ acceptBackoffMs
        listener.watch(false, onReadable: onAcceptReadyTrampoline)
        addTimer(delayMs: acceptBackoffMs) { [unowned self] in
            self.acceptPausedUntilMs = nil
            guard let listener = self.listener else { return }
            listener.watch(true, onReadable: onAcceptReadyTrampoline)
        }
    }

    /// Takes an accepted (non-blocking) descriptor into the slab and the epoll set: it is read
    /// from now on.
    private func adopt(_ fd: Int32) {
        guard let sockets else {
            closeDescriptor(fd)
            return
        }
        // Small frames go out at once (the write queue already coalesces what one turn produces).
        _ = noex_set_nodelay(fd)
        let now = nowMs
        let connection = Connection(
            fd: fd, machine: ConnectionStateMachine(nowMs: now, handshakeTimeoutMs: config.handshakeTimeoutMs),
            peer: peerInfo(fd))
        let id = connections.insert(connection)
        let rc = sockets.add(fd, id)
        guard rc == 0 else {
            connections.remove(id)
            closeDescriptor(fd)
            acceptFailed(rc)
            return
        }
        handshakes[id] = HTTPUpgradeParser(maxHeaderBytes: config.upgrade.maxHeaderBytes)
        counters.socketsAccepted &+= 1
    }

    /// Counts an accept failure and reports it to the delegate at most once per second, with
    /// the number of failures since the last report (a flood of EMFILE must not flood the log).
    func acceptFailed(_ code: Int32) {
        acceptErrors += 1
        unreportedAcceptErrors += 1
        lastAcceptError = code
        reportAcceptErrors()
    }

    /// Reports the failures not reported yet, unless the last report is less than a second
    /// old (the sweep timer calls it too, so the last burst is reported as well).
    private func reportAcceptErrors() {
        guard unreportedAcceptErrors > 0 else { return }
        let now = nowMs
        if let last = lastAcceptErrorReportMs, now &- last < 1_000 { return }
        lastAcceptErrorReportMs = now
        let count = unreportedAcceptErrors
        unreportedAcceptErrors = 0
        delegate?.onAcceptError(self, UVError(lastAcceptError), count: count)
    }

    // MARK: - Socket events

    /// The epoll set is readable: handle one bounded batch of ready sockets, then free the slots
    /// of the connections that closed meanwhile.
    func socketsReady() {
        guard let sockets else { return }
        let count = sockets.wait()
        for i in 0..<count {
            let ready = sockets.ready(i)
            // A stale id (the connection closed earlier in this batch) finds nothing.
            if let id = ready.id { socketReady(id, ready) }
        }
        reclaimClosed()
    }

    /// One ready socket: read (data, EOF or the error), then write what waited for room.
    private func socketReady(_ id: ConnectionID, _ ready: SocketSet.Ready) {
        guard let (fd, reads) = connections.withValue(id, { c -> (Int32, Bool)? in
            c.fd < 0 ? nil : (c.fd, c.isReading && !c.readEnded)
        }) ?? nil else { return }
        if reads && (ready.isReadable || ready.isBroken) {
            readSocket(id, fd)
        } else if ready.isBroken {
            // Not reading (paused, held, or after EOF) and the socket failed or hung up in both
            // directions: nothing can be written any more, and level-triggered epoll would
            // report it on every wake-up.
            forceClose(id)
            return
        }
        if ready.isWritable { becameWritable(id) }
        syncWatch(id)
    }

    /// One read into the shared buffer (level-triggered: what is left is reported again).
    private func readSocket(_ id: ConnectionID, _ fd: Int32) {
        let n = Glibc.read(fd, readBuffer.baseAddress, readBuffer.count)
        if n > 0 {
            didRead(id, nread: n)
        } else if n == 0 {
            didRead(id, nread: Int(UV_EOF.rawValue))
        } else {
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return }
            didRead(id, nread: -Int(code))
        }
    }

    /// Makes the epoll set watch what the connection needs now: readable while it reads,
    /// writable while a batch waits for room. No system call when that did not change.
    private func syncWatch(_ id: ConnectionID) {
        guard let sockets, let (fd, interest) = connections.withValue(id, { c -> (Int32, UInt8)? in
            guard c.fd >= 0 else { return nil }
            let want = (c.isReading && !c.readEnded ? SocketSet.readable : 0) | (c.awaitsWritable ? SocketSet.writable : 0)
            guard want != c.watched else { return nil }
            c.watched = want
            return (c.fd, want)
        }) ?? nil else { return }
        if sockets.watch(fd, id, interest) != 0 { forceClose(id) }
    }

    /// Frees the slots of the connections closed since the last call, then moves a stop on.
    func reclaimClosed() {
        guard !closedSlots.isEmpty else { return }
        let list = closedSlots
        closedSlots.removeAll(keepingCapacity: true)
        for id in list {
            connections.remove(id)
            handshakes[id] = nil
        }
        advanceStop()
    }

    // MARK: - Read

    /// One read: bytes go to the upgrade parser until the handshake completes, then to the
    /// frame decoder, one event at a time; each event's action runs before the next is
    /// decoded (the delegate may close the connection or stop the server in between).
    func didRead(_ id: ConnectionID, nread: Int) {
        if nread < 0 {
            // EOF: the peer half-closed (maybe answering our FIN); what is queued still goes out.
            // Any other error: the socket is dead.
            let now = nowMs
            let action = connections.withValue(id) { c in
                guard nread == Int(UV_EOF.rawValue) else { return c.machine.peerDisconnected() }
                c.readEnded = true
                return c.machine.peerEnded(writesPending: !c.writes.isDrained, nowMs: now, timing: timing)
            }
            if let action { execute(action, for: id) }
            syncWatch(id)
            return
        }
        counters.bytesReceived &+= UInt64(nread)
        consume(id, UnsafeMutableRawBufferPointer(rebasing: readBuffer[0..<nread]))
    }

    /// Feeds inbound bytes to the connection until they are used up or reading pauses; on a
    /// pause the rest is kept in `unconsumed` (the next read must not overtake it). Frames are
    /// unmasked in place, so `input` changes; a message lying whole in it is handed to the
    /// delegate as a view into it.
    private func consume(_ id: ConnectionID, _ input: UnsafeMutableRawBufferPointer) {
        var offset = 0
        while offset < input.count {
            // Read the state in place: copying the Connection out would retain its buffers.
            guard let phase = connections.withValue(id, { c -> ReadPhase in
                if !c.isReading {
                    c.unconsumed = Array(UnsafeMutableRawBufferPointer(rebasing: input[offset...]))
                    return .discard
                }
                if case .handshake = c.machine.state { return .handshake }
                return c.machine.readsFrames ? .frames : .discard
            }) else { return }
            switch phase {
            case .handshake:
                let rest = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(input)[offset...])
                guard let result = handshakes[id]?.feed(rest) else { return }
                if case .needMore = result {} else { handshakes[id] = nil }
                switch result {
                case .needMore:
                    return
                case .complete(let head, let consumed):
                    offset += consumed
                    if answerPlainRequest(id, head) { return }
                    let validated = HTTPUpgradeValidator.validate(head, config: config.upgrade,
                                                                  compression: config.compression)
                    let now = nowMs
                    let action = connections.withValue(id) {
                        $0.machine.upgradeFinished(validated.map { _ in () }, nowMs: now, timing: timing)
                    }
                    if case .success(let accepted) = validated {
                        if let deflate = accepted.deflate {
                            connections.withValue(id) {
                                $0.compression = ConnectionCompression(deflate)
                                $0.decoder.enableDeflate(clientNoContextTakeover: deflate.clientNoContextTakeover)
                            }
                        }
                        enqueue(id, HTTPUpgradeValidator.switchingProtocolsResponse(for: accepted), kind: .response)
                    }
                    if let action { execute(action, for: id) }
                case .invalid(let rejection):
                    let now = nowMs
                    if let action = connections.withValue(id, { $0.machine.upgradeFinished(.failure(rejection), nowMs: now, timing: timing) }) {
                        execute(action, for: id)
                    }
                    return
                }
            case .frames:
                // One slab access decodes and, for a message found in place, tells whether it is
                // delivered: exactly while open, as `ConnectionStateMachine.received` decides for
                // owned messages (after our close, data is discarded).
                guard let (event, open) = connections.withValue(id, { c -> (WebSocketDecodedEvent, Bool)? in
                    guard let event = c.decoder.nextEvent(input, consumed: &offset, config: config.decoder) else { return nil }
                    return (event, c.machine.isOpen)
                }) ?? nil else { return }
                switch event {
                case .inPlace(let opcode, let payload):
                    if open { deliver(id, opcode, payload) }
                case .inbound(let inbound):
                    let now = nowMs
                    if let action = connections.withValue(id, { $0.machine.received(inbound, nowMs: now, timing: timing) }) {
                        execute(action, for: id)
                    }
                }
            case .discard:
                return
            }
        }
    }

    /// The write queue went above its high-water mark: stop reading the socket, so a client
    /// that does not read its answers is held back by its own TCP window (and stop decoding
    /// what was already read: `consume` checks `isReading` before each frame).
    private func pauseReading(_ id: ConnectionID) {
        guard connections.withValue(id, { c -> Bool in
            defer { c.isReading = false }
            return c.isReading
        }) == true else { return }
        syncWatch(id)
    }

    /// Stops (`hold`) or allows again reading a connection on the application's behalf, e.g.
    /// while its previous request is answered off the loop: no further frame is decoded and the
    /// client is held back by its own TCP window. Independent of the write-queue pause: reading
    /// resumes only when neither holds it.
    public func holdReading(_ id: ConnectionID, _ hold: Bool) {
        guard connections.withValue(id, { $0.readHeld = hold }) != nil else { return }
        if hold {
            pauseReading(id)
        } else if isWritable(id) == true {
            resumeReading(id)
        }
    }

    /// The write queue fell to its low-water mark: decode what was left over, then read again
    /// (unless that pauses reading once more or ends the connection).
    private func resumeReading(_ id: ConnectionID) {
        guard connections.withValue(id, { $0.readHeld }) == false else { return }
        guard var left = connections.withValue(id, { c -> [UInt8] in
            c.isReading = true
            defer { c.unconsumed = [] }
            return c.unconsumed
        }) else { return }
        if !left.isEmpty { left.withUnsafeMutableBytes { consume(id, $0) } }
        syncWatch(id)
    }

    /// What to do with inbound bytes, by connection state.
    private enum ReadPhase {
        /// Feed the HTTP upgrade parser.
        case handshake
        /// Feed the frame decoder.
        case frames
        /// Drop them (failed stream, rejected handshake, closed socket).
        case discard
    }

    // MARK: - Actions

    /// Executes one state-machine action, outside any slab access.
    func execute(_ action: ConnectionStateMachine.Action, for id: ConnectionID) {
        switch action {
        case .none:
            return
        case .acceptUpgrade:
            // The 101 response was queued by the reader (it needs the key).
            guard let address = connections.withValue(id, { $0.remoteAddress }) else { return }
            delegate?.onOpen(self, id, remoteAddress: address)
        case .rejectUpgrade(let rejection):
            enqueue(id, rejection.responseBytes, kind: .response)
        case .deliverText(let bytes):
            bytes.withUnsafeBytes { deliver(id, .text, $0) }
        case .deliverBinary(let bytes):
            bytes.withUnsafeBytes { deliver(id, .binary, $0) }
        case .sendPong(let payload):
            enqueue(id, WebSocketFrameEncoder.frame(opcode: .pong, payload: payload), kind: .response)
        case .sendPing:
            if config.heartbeat?.style == .webSocketPing {
                enqueue(id, WebSocketFrameEncoder.frame(opcode: .ping, payload: []), kind: .response)
            } else {
                delegate?.onHeartbeat(self, id)
            }
        case .sendClose(let code, let reason):
            enqueue(id, WebSocketFrameEncoder.closeFrame(code: code, reason: reason), kind: .response)
        case .shutdownWrite:
            // Sent when our queue has drained: the FIN follows the last byte we wrote.
            guard let fd = connections.withValue(id, { $0.fd }), fd >= 0 else { return }
            if Glibc.shutdown(fd, Int32(SHUT_WR)) != 0 { forceClose(id) }
        case .closeSocket:
            closeSocket(id)
        }
    }

    /// Hands a message to the delegate; `payload` is valid only during the call.
    private func deliver(_ id: ConnectionID, _ opcode: WebSocketOpcode, _ payload: UnsafeRawBufferPointer) {
        if opcode == .binary {
            delegate?.onBinary(self, id, payload)
        } else {
            delegate?.onText(self, id, payload)
        }
    }

    /// Closes the socket whatever the state (slow clients, stop deadline, accept failures).
    func forceClose(_ id: ConnectionID) {
        if let action = connections.withValue(id, { $0.machine.peerDisconnected() }) { execute(action, for: id) }
    }

    /// Closes the socket (what is queued or half-written is dropped); the slot is freed by
    /// `reclaimClosed` at the end of the current dispatch. The application hears `onClose` now,
    /// exactly once per opened connection.
    private func closeSocket(_ id: ConnectionID) {
        guard let (fd, opened, code) = connections.withValue(id, { c -> (Int32, Bool, UInt16) in
            c.writes.discardPending()
            defer { c.fd = -1 }
            return (c.fd, c.machine.wasOpened, c.machine.closeCode)
        }), fd >= 0 else { return }
        sockets?.remove(fd)
        closeDescriptor(fd)
        closedSlots.append(id)
        if opened { delegate?.onClose(self, id, code: code) }
    }

    // MARK: - Write

    /// Adds bytes to a connection's queue and puts it on the dirty list.
    @discardableResult
    func enqueue(_ id: ConnectionID, _ bytes: [UInt8], kind: SendKind) -> SendResult {
        enqueue(id, count: bytes.count, kind: kind) { $0.append(contentsOf: bytes) }
    }

    /// Queues a frame of `count` bytes that `write` appends straight into the connection's queue.
    private func enqueue(_ id: ConnectionID, count: Int, kind: SendKind, write: (inout [UInt8]) -> Void) -> SendResult {
        guard let (result, edge, mark) = connections.withValue(id, { c -> (WriteQueue.EnqueueResult, Bool, Bool) in
            queueInPlace(&c, count: count, kind: kind, write: write)
        }) else { return .notOpen }
        return enqueued(id, result, edge: edge, mark: mark)
    }

    /// The slab-side half of queueing: a reused buffer for an empty queue, the frame, the dirty
    /// flag. Returns what `enqueued` needs once the slab access has ended.
    @inline(__always)
    private func queueInPlace(_ c: inout Connection, count: Int, kind: SendKind, write: (inout [UInt8]) -> Void)
        -> (WriteQueue.EnqueueResult, Bool, Bool)
    {
        if c.writes.wantsBuffer, let spare = spareBuffers.popLast() {
            spareBytes -= spare.capacity
            c.writes.adoptBuffer(spare)
        }
        let (result, edge) = c.writes.enqueue(count: count, kind: kind, limits: config.writeLimits, write: write)
        let mark = !c.isDirty && result == .queued
        if mark { c.isDirty = true }
        return (result, edge, mark)
    }

    /// The loop-side half of queueing, outside the slab access: the dirty list, and the pause
    /// and the delegate's edge event when the queue went above its high-water mark.
    private func enqueued(_ id: ConnectionID, _ result: WriteQueue.EnqueueResult, edge: Bool, mark: Bool) -> SendResult {
        if mark { dirty.append(id) }
        if edge {
            pauseReading(id)
            delegate?.onWritabilityChanged(self, id, writable: false)
        }
        switch result {
        case .queued: return .queued
        case .coalesced: return .coalesced
        case .dropped: return .dropped
        }
    }

    /// What the response fast path of `sendFrame` did inside the slab access.
    private enum ResponseQueueing {
        case notOpen
        /// Compression applies: take the general path.
        case general
        case queued(WriteQueue.EnqueueResult, edge: Bool, mark: Bool)
    }

    private func sendFrame(_ id: ConnectionID, opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer,
                           kind: SendKind) -> SendResult {
        if case .response = kind {
            // An answer without compression, the common case, in one slab access: the frame's
            // header and the payload are written straight into the connection's queue.
            let threshold = compressionThreshold
            let count = WebSocketFrameEncoder.headerSize(payloadCount: payload.count) + payload.count
            switch connections.withValue(id, { c -> ResponseQueueing in
                guard c.machine.isOpen else { return .notOpen }
                if c.compression != nil && payload.count >= threshold { return .general }
                let (result, edge, mark) = queueInPlace(&c, count: count, kind: .response) { out in
                    WebSocketFrameEncoder.appendFrame(opcode: opcode, payload: payload, to: &out)
                }
                return .queued(result, edge: edge, mark: mark)
            }) {
            case nil, .notOpen?: return .notOpen
            case .queued(let result, let edge, let mark)?: return enqueued(id, result, edge: edge, mark: mark)
            case .general?:
                let deflate = connections.withValue(id) { $0.deflate } ?? nil
                return sendCompressing(id, opcode: opcode, payload: payload, deflate: deflate!, kind: kind)
            }
        }
        return sendPush(id, opcode: opcode, FrameParts(payload), kind: kind)
    }

    /// Where `sendPush` found a push's connection, in one slab access.
    private enum PushRoute {
        case notOpen
        /// permessage-deflate applies to a payload of this size.
        case compress(PerMessageDeflateParams)
        /// Nothing queued or in flight: write to this descriptor at once.
        case direct(Int32)
        case queue
    }

    /// A push (or any message that is not an answer): straight to the socket when nothing is
    /// queued before it, else into the queue, where it may be coalesced or dropped (`SendKind`).
    private func sendPush(_ id: ConnectionID, opcode: WebSocketOpcode, _ parts: FrameParts, kind: SendKind) -> SendResult {
        let compressible = parts.count >= compressionThreshold
        let direct = config.useTryWrite && parts.count <= Self.directWriteMaxBytes
        guard let route = connections.withValue(id, { c -> PushRoute in
            guard c.machine.isOpen else { return .notOpen }
            if compressible, let deflate = c.deflate { return .compress(deflate) }
            return direct && c.writes.isDrained && !c.isDirty && c.fd >= 0 ? .direct(c.fd) : .queue
        }) else { return .notOpen }
        var skip = 0
        switch route {
        case .notOpen: return .notOpen
        case .compress(let deflate):
            let joined = parts.joined()
            return joined.withUnsafeBytes { sendCompressing(id, opcode: opcode, payload: $0, deflate: deflate, kind: kind) }
        case .direct(let fd):
            switch write(fd, opcode: opcode, parts, compressed: false) {
            case .all: return .queued
            case .none: break
            case .part(let written): skip = written
            }
        case .queue: break
        }
        return enqueueFrame(id, opcode: opcode, parts, compressed: false, kind: kind, skip: skip)
    }

    /// A message for a connection with permessage-deflate, at least the threshold in size:
    /// compressed unless compressing does not pay (`compress`), then sent as `sendPush` does.
    private func sendCompressing(_ id: ConnectionID, opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer,
                                 deflate: PerMessageDeflateParams, kind: SendKind) -> SendResult {
        if let compressed = compress(id, payload, deflate, kind: kind) {
            return compressed.withUnsafeBytes {
                enqueueFrame(id, opcode: opcode, payload: $0, compressed: true, kind: kind)
            }
        }
        return enqueueFrame(id, opcode: opcode, payload: payload, compressed: false, kind: kind)
    }

    private func enqueueFrame(_ id: ConnectionID, opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer,
                              compressed: Bool, kind: SendKind) -> SendResult {
        var skip = 0
        if kind != .response && payload.count <= Self.directWriteMaxBytes {
            switch writeDirectly(id, opcode: opcode, FrameParts(payload), compressed: compressed) {
            case .all: return .queued
            case .none: break
            case .part(let written): skip = written
            }
        }
        return enqueueFrame(id, opcode: opcode, FrameParts(payload), compressed: compressed, kind: kind, skip: skip)
    }

    /// Queues the frame of `parts` without its first `skip` bytes (those went out directly).
    private func enqueueFrame(_ id: ConnectionID, opcode: WebSocketOpcode, _ parts: FrameParts,
                              compressed: Bool, kind: SendKind, skip: Int) -> SendResult {
        let count = WebSocketFrameEncoder.headerSize(payloadCount: parts.count) + parts.count
        // A frame whose head already went out must go on whole: its rest is never replaced or dropped.
        return enqueue(id, count: count - skip, kind: skip > 0 ? .response : kind) { out in
            if skip == 0 {
                WebSocketFrameEncoder.appendFrame(opcode: opcode, parts: parts, compressed: compressed, to: &out)
                return
            }
            var header: [UInt8] = []
            WebSocketFrameEncoder.appendHeader(opcode: opcode, payloadCount: parts.count, compressed: compressed, to: &header)
            if skip < header.count { out.append(contentsOf: header[skip...]) }
            parts.append(from: Swift.max(0, skip - header.count), to: &out)
        }
    }

    /// Pushes up to this payload size may be written directly. A larger push takes the queue:
    /// copying it costs little next to its write, and a burst of them to a reader that does not
    /// read meets the hard limit at once in the queue instead of first filling the kernel's
    /// socket buffers.
    static let directWriteMaxBytes = 16 << 10

    /// How much of a frame `writeDirectly` handed to the kernel.
    private enum DirectWrite {
        /// Nothing: queue the frame as usual.
        case none
        /// The whole frame.
        case all
        /// The first `n` bytes (0 < n < frame size): the rest must be queued.
        case part(Int)
    }

    /// A push to a connection with nothing queued and nothing in flight goes straight to the
    /// socket: one `sendmsg` of the header and the caller's payload (two buffers, no copy into
    /// the queue, no batch, no dirty-list entry). A fan-out writes one push per subscriber per
    /// loop iteration, so this is its whole transport cost. Responses keep the queue: a read
    /// that holds several requests gets all their answers in one write before the poll.
    private func writeDirectly(_ id: ConnectionID, opcode: WebSocketOpcode, _ parts: FrameParts,
                               compressed: Bool) -> DirectWrite {
        guard config.useTryWrite, let fd = connections.withValue(id, { c -> Int32? in
            c.writes.isDrained && !c.isDirty && c.machine.isOpen && c.fd >= 0 ? c.fd : nil
        }) ?? nil else { return .none }
        return write(fd, opcode: opcode, parts, compressed: compressed)
    }

    /// `writeDirectly` once the connection is known to have nothing queued: the header and
    /// the payload's parts in one `sendmsg`.
    private func write(_ fd: Int32, opcode: WebSocketOpcode, _ parts: FrameParts, compressed: Bool) -> DirectWrite {
        // The header on the stack: at most 10 bytes.
        var header: (UInt64, UInt64) = (0, 0)
        let count = parts.count
        let headerCount = withUnsafeMutableBytes(of: &header) {
            WebSocketFrameEncoder.writeHeader(opcode: opcode, payloadCount: count, compressed: compressed, to: $0)
        }
        let total = headerCount + count
        let written = withUnsafeBytes(of: &header) { h in
            noex_send4(fd, h.baseAddress, headerCount, parts.head.baseAddress, parts.head.count,
                       parts.body.baseAddress, parts.body.count, parts.tail.baseAddress, parts.tail.count)
        }
        // EAGAIN (socket buffer full) or an error: the queue takes the frame, and its flush
        // meets the error again and closes the connection.
        guard written > 0 else { return .none }
        counters.bytesSent &+= UInt64(written)
        return written == total ? .all : .part(written)
    }

    /// The compressed payload of an outbound message, or nil to send it plain.
    ///
    /// A push may later be dropped or replaced in the queue, so it must not reference earlier
    /// messages nor be referenced by later ones: it is compressed on its own (by the shared
    /// compressor), and the connection's own compressor starts from an empty window afterwards.
    /// Responses on a connection with context takeover use the connection's compressor.
    private func compress(_ id: ConnectionID, _ payload: UnsafeRawBufferPointer, _ deflate: PerMessageDeflateParams,
                          kind: SendKind) -> [UInt8]? {
        guard let shared = sharedCompressors else { return nil }
        if deflate.serverNoContextTakeover || kind != .response {
            guard let out = shared.compress(payload, windowBits: deflate.serverMaxWindowBits) else { return nil }
            if !deflate.serverNoContextTakeover {
                connections.withValue(id) { $0.compression?.deflater?.needsReset = true }
            }
            // Standalone output may go plain when compressing did not help (nothing depends on it).
            return out.count < payload.count ? out : nil
        }
        let config = shared.config
        guard let deflater = connections.withValue(id, { c -> ZlibDeflater? in
            guard let compression = c.compression else { return nil }
            if compression.deflater == nil {
                compression.deflater = ZlibDeflater(windowBits: deflate.serverMaxWindowBits, memLevel: config.memLevel,
                                          level: config.level, noContextTakeover: false)
            }
            return compression.deflater
        }) ?? nil else { return nil }
        // With context takeover the client's window must see this message: always sent compressed.
        return deflater.compress(payload)
    }

    /// Whether the connection negotiated permessage-deflate (nil for an unknown id).
    public func compressionParams(_ id: ConnectionID) -> PerMessageDeflateParams?? {
        connections.withValue(id) { $0.deflate }
    }

    /// Whether zlib state is allocated for the connection right now: (inflate, deflate).
    public func holdsCompressionState(_ id: ConnectionID) -> (inflater: Bool, deflater: Bool)? {
        connections.withValue(id) { ($0.decoder.holdsInflater, $0.compression?.deflater != nil) }
    }

    /// Before each poll: one coalesced write per dirty connection.
    func flushDirty() {
        // A flush can queue more (a drained queue resumes reading and answers what was left
        // over): repeat, since the poll that follows may sleep. Each round consumes leftover
        // input, so this ends.
        while !dirty.isEmpty {
            let list = dirty
            dirty.removeAll(keepingCapacity: true)
            for id in list { flush(id) }
        }
    }

    /// Makes the pending bytes the in-flight batch (unless one is in flight already) and writes
    /// it, unless the socket is known to be full (then EPOLLOUT writes it).
    private func flush(_ id: ConnectionID) {
        guard connections.withValue(id, { c -> Bool in
            c.isDirty = false
            guard c.fd >= 0 else { return false }
            c.writes.takeBatch()
            return c.writes.hasInFlight && !c.awaitsWritable
        }) == true else { return }
        guard config.useTryWrite else {
            // The benchmark knob: every batch waits for the writable event.
            awaitWritable(id)
            return
        }
        writeInFlight(id)
    }

    /// Sends the unwritten rest of the in-flight batch. All of it: the batch is complete. Part
    /// of it, or EAGAIN: the rest waits for EPOLLOUT. Any other error: the socket is dead.
    private func writeInFlight(_ id: ConnectionID) {
        while true {
            // nil: gone, closed, or nothing in flight (then there is nothing to wait for either).
            guard let n = connections.withValue(id, { c -> Int? in
                let fd = c.fd
                return c.writes.withUnsentBytes { $0.isEmpty || fd < 0 ? nil : noex_send(fd, $0.baseAddress, $0.count) }
            }) ?? nil else { return }
            if n > 0 {
                counters.bytesSent &+= UInt64(n)
                guard connections.withValue(id, { $0.writes.sent(n) }) == true else {
                    awaitWritable(id)
                    return
                }
                writeCompleted(id, status: 0)
                return
            }
            let code = n < 0 ? errno : EAGAIN
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                awaitWritable(id)
                return
            }
            writeCompleted(id, status: -code)
            return
        }
    }

    /// The kernel's send buffer is full: watch for room.
    private func awaitWritable(_ id: ConnectionID) {
        connections.withValue(id) { $0.awaitsWritable = true }
        syncWatch(id)
    }

    /// EPOLLOUT: the socket has room for the rest of the in-flight batch.
    private func becameWritable(_ id: ConnectionID) {
        guard connections.withValue(id, { c -> Bool in
            defer { c.awaitsWritable = false }
            return c.awaitsWritable && c.fd >= 0
        }) == true else { return }
        writeInFlight(id)
    }

    /// The in-flight batch finished (status < 0: the socket failed).
    func writeCompleted(_ id: ConnectionID, status: Int32) {
        guard let (writable, drained) = connections.withValue(id, { c -> (Bool, Bool) in
            if status >= 0 {
                let buffer = c.writes.takeWrittenBuffer()
                if buffer.capacity <= Self.spareBufferMaxBytes && spareBytes + buffer.capacity <= Self.spareBufferBudget {
                    spareBytes += buffer.capacity
                    spareBuffers.append(buffer)
                }
            }
            return (c.writes.batchWritten(limits: config.writeLimits), c.writes.isDrained)
        }) else { return }
        if status < 0 {
            forceClose(id)
            return
        }
        if writable {
            delegate?.onWritabilityChanged(self, id, writable: true)
            resumeReading(id)
        }
        if drained, let stale = connections.withValue(id, { c -> [UInt64]? in
            c.machine.isOpen && !c.writes.staleKeys.isEmpty ? c.writes.takeStaleKeys() : nil
        }) ?? nil {
            delegate?.onStalePushes(self, id, keys: stale)
        }
        // Read again: resuming and the delegate may have queued more (or closed the connection).
        guard let (hasPending, drained) = connections.withValue(id, { c in (c.writes.hasPending, c.writes.isDrained) })
        else { return }
        if hasPending {
            flush(id)
        } else if drained {
            let now = nowMs
            if let action = connections.withValue(id, { $0.machine.writesDrained(nowMs: now) }) { execute(action, for: id) }
        }
    }

    // MARK: - Sweep

    /// The one periodic timer: connection deadlines, heartbeats, slow clients, stop progress.
    func sweepTick() {
        let now = nowMs
        counters.loopLag.fired(nowMs: now)
        for id in connections.ids {
            let slowLimit = config.slowClientTimeoutMs
            guard let (action, tooSlow) = connections.withValue(id, { c -> (ConnectionStateMachine.Action, Bool) in
                var tooSlow = false
                if c.writes.isOverHardLimit(config.writeLimits) {
                    let since = c.overHardLimitSinceMs ?? now
                    c.overHardLimitSinceMs = since
                    if let slowLimit, now &- since >= slowLimit { tooSlow = true }
                } else {
                    c.overHardLimitSinceMs = nil
                }
                return (c.machine.tick(nowMs: now, timing: timing), tooSlow)
            }) else { continue }
            execute(action, for: id)
            if tooSlow { forceClose(id) }
        }
        reportAcceptErrors()
        advanceStop()
    }

    // MARK: - Helpers

    private func peerInfo(_ fd: Int32) -> ConnectionInfo {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            getpeername(fd, UnsafeMutableRawPointer($0).assumingMemoryBound(to: sockaddr.self), &len)
        }
        let (address, port) = rc == 0 ? Self.describe(&storage) : ("unknown", 0)
        return ConnectionInfo(remoteAddress: address, remotePort: port, connectedAtMs: wallClockMs())
    }

    /// IP text and port of a socket address.
    private static func describe(_ storage: inout sockaddr_storage) -> (address: String, port: Int) {
        let family = storage.ss_family
        var name = [CChar](repeating: 0, count: 64)
        let port: Int = withUnsafePointer(to: &storage) { p -> Int in
            let raw = UnsafeRawPointer(p)
            if family == sa_family_t(AF_INET6) {
                let a = raw.assumingMemoryBound(to: sockaddr_in6.self)
                uv_ip6_name(a, &name, name.count)
                return Int(UInt16(bigEndian: a.pointee.sin6_port))
            }
            let a = raw.assumingMemoryBound(to: sockaddr_in.self)
            uv_ip4_name(a, &name, name.count)
            return Int(UInt16(bigEndian: a.pointee.sin_port))
        }
        let text = name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
        return (String(decoding: text, as: UTF8.self), port)
    }
}

@available(*, unavailable) extension WebSocketServer: Sendable {}

// MARK: - C trampolines (file scope, non-capturing: resolve context, call one method)

private func onAcceptReadyTrampoline(_ poll: UnsafeMutablePointer<uv_poll_t>?, _ status: Int32, _ events: Int32) {
    WebSocketServer.from(poll!.pointee.loop).acceptReady()
}

private func onSocketsReadyTrampoline(_ poll: UnsafeMutablePointer<uv_poll_t>?, _ status: Int32, _ events: Int32) {
    WebSocketServer.from(poll!.pointee.loop).socketsReady()
}

private func onPrepareTrampoline(_ handle: UnsafeMutablePointer<uv_prepare_t>?) {
    let server = WebSocketServer.from(handle!.pointee.loop)
    server.beforeFlush?()
    server.flushDirty()
    server.reclaimClosed()
}

private func onSweepTrampoline(_ handle: UnsafeMutablePointer<uv_timer_t>?) {
    WebSocketServer.from(handle!.pointee.loop).sweepTick()
}

private func onSignalTrampoline(_ handle: UnsafeMutablePointer<uv_signal_t>?, _ signum: Int32) {
    WebSocketServer.from(handle!.pointee.loop).signalReceived()
}

/// Frees a handle allocated with `UnsafeMutablePointer<T>.allocate(capacity: 1)` (the
/// allocation is untyped underneath, so freeing through the raw pointer is exact).
func onHandleClosedFree(_ handle: UnsafeMutablePointer<uv_handle_t>?) {
    UnsafeMutableRawPointer(handle!).deallocate()
}
