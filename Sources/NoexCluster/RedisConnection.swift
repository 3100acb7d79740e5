import CHiredis
import CUV

/// Tuning of a `RedisConnection`.
public struct RedisConnectionOptions: Sendable {
    /// Commands held while disconnected; past this, `send` fails at once with `queueFull`.
    public var maxQueued = 1024
    /// A held command older than this fails with `queueTimeout` (checked on every send and
    /// every reconnect attempt), so a caller learns within a bounded time that Redis is down.
    public var maxQueueWaitMs: UInt64 = 5000
    /// First reconnect delay; doubled after each failed attempt up to `reconnectMaxMs`.
    public var reconnectInitialMs: UInt64 = 50
    public var reconnectMaxMs: UInt64 = 2000
    /// A connect that has not completed in this time is abandoned and retried.
    public var connectTimeoutMs: UInt64 = 2000

    public init() {}
}

/// What happened to the link (delivered on the loop thread).
public enum RedisConnectionEvent: Equatable, Sendable {
    case connected
    /// An established connection broke; commands in flight failed with `connectionLost`.
    case disconnected(String)
    /// A connect attempt failed; the next one follows after the backoff delay.
    case connectFailed(String)
}

/// One connection to Redis driven by hiredis on a libuv loop: commands and their replies,
/// automatic reconnect with exponential backoff, and a bounded queue of commands while the link
/// is down. Everything runs on the loop thread that owns `loop`: no threads, no locks.
///
/// Replies arrive in command order (Redis answers a connection's commands in order). `close()`
/// (or dropping the last reference) ends it; the timer handle is released by the loop.
public final class RedisConnection {
    public typealias Completion = (Result<RedisReply, RedisFailure>) -> Void

    public enum State: Equatable, Sendable { case idle, connecting, connected, waitingToRetry, closed }

    public let endpoint: RedisEndpoint
    public let options: RedisConnectionOptions
    public private(set) var state: State = .idle
    /// Called for every link event, after the connection's own bookkeeping.
    public var onEvent: ((RedisConnectionEvent) -> Void)?
    /// Successful connects so far (the first one included).
    public private(set) var connects = 0

    private let loop: UnsafeMutablePointer<uv_loop_t>
    private var context: UnsafeMutablePointer<redisAsyncContext>?
    private let timer: UnsafeMutablePointer<uv_timer_t>
    private var backoffMs: UInt64
    private var inFlight: [UInt: Completion] = [:]
    private var nextSerial: UInt = 1
    private var queue: [(args: [[UInt8]], since: UInt64, completion: Completion)] = []
    private var queueHead = 0

    public init(loop: UnsafeMutablePointer<uv_loop_t>, endpoint: RedisEndpoint, options: RedisConnectionOptions = .init()) {
        self.loop = loop
        self.endpoint = endpoint
        self.options = options
        backoffMs = options.reconnectInitialMs
        timer = .allocate(capacity: 1)
        let rc = uv_timer_init(loop, timer)
        precondition(rc == 0, "uv_timer_init failed: \(rc)")
        timer.withMemoryRebound(to: uv_handle_t.self, capacity: 1) {
            uv_handle_set_data($0, Unmanaged.passUnretained(self).toOpaque())
        }
    }

    /// Dropping a connection that was not closed closes it (its completions run with `closed`).
    deinit { close() }

    /// Starts connecting (idempotent).
    public func start() {
        guard state == .idle else { return }
        connect()
    }

    /// Commands waiting for a connection.
    public var queuedCount: Int { queue.count - queueHead }

    /// Sends one command (`["XADD", key, "*", …]`). The completion runs on the loop thread with
    /// the reply, or with a `RedisFailure` — at once when the queue is full or the connection closed.
    public func send(_ args: [String], _ completion: @escaping Completion) {
        send(bytes: args.map { Array($0.utf8) }, completion)
    }

    public func send(bytes args: [[UInt8]], _ completion: @escaping Completion) {
        if state == .closed {
            completion(.failure(RedisFailure(.closed, "the Redis connection to \(endpoint) was closed")))
            return
        }
        expireQueued()
        if state == .connected, queuedCount == 0, issue(args, completion) { return }
        guard queuedCount < options.maxQueued else {
            completion(.failure(RedisFailure(
                .queueFull,
                "Redis at \(endpoint) is unreachable and \(options.maxQueued) commands are already waiting; retry when it is back")))
            return
        }
        queue.append((args, uv_now(loop), completion))
    }

    /// Closes the link: commands in flight and queued fail with `closed`; no reconnect follows.
    /// The timer handle is released on the next loop iteration.
    public func close() {
        guard state != .closed else { return }
        state = .closed
        uv_timer_stop(timer)
        if let ac = context {
            context = nil
            redisAsyncFree(ac)  // runs the in-flight callbacks with no reply
        }
        failInFlight(.closed, "the Redis connection to \(endpoint) was closed")
        failQueued(.closed, "the Redis connection to \(endpoint) was closed")
        timer.withMemoryRebound(to: uv_handle_t.self, capacity: 1) {
            uv_handle_set_data($0, nil)
            uv_close($0) { h in UnsafeMutableRawPointer(h!).deallocate() }
        }
    }

    // MARK: - link

    private func connect() {
        state = .connecting
        guard let ac = redisAsyncConnect(endpoint.host, Int32(endpoint.port)) else {
            connectFailed("out of memory creating the Redis context")
            return
        }
        if ac.pointee.err != 0 {
            let reason = Self.errorText(ac)
            redisAsyncFree(ac)
            connectFailed(reason)
            return
        }
        ac.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        guard noex_redis_attach_libuv(ac, UnsafeMutableRawPointer(loop)) == REDIS_OK else {
            redisAsyncFree(ac)
            connectFailed("cannot attach the Redis socket to the loop")
            return
        }
        redisAsyncSetConnectCallback(ac, onRedisConnect)
        redisAsyncSetDisconnectCallback(ac, onRedisDisconnect)
        context = ac
        uv_timer_start(timer, onRedisTimer, options.connectTimeoutMs, 0)
    }

    fileprivate func didConnect(_ ok: Bool, _ ac: UnsafePointer<redisAsyncContext>) {
        guard state == .connecting else { return }
        if !ok {
            context = nil  // hiredis frees it after this callback
            connectFailed(Self.errorText(ac))
            return
        }
        checkReady()
    }

    /// Redis accepts connections while it loads its dataset after a restart and refuses every
    /// command with `LOADING` until it is done, so the link counts as up only once a PING is
    /// answered: until then commands stay queued (within `maxQueueWaitMs`) and readers wait.
    /// A `LOADING` answer is a failed connect (retried with backoff); a PING that gets no answer
    /// within `connectTimeoutMs` is a connect that timed out (the timer still runs).
    private func checkReady() {
        let sent = issue([Array("PING".utf8)]) { [weak self] result in
            guard let self, self.state == .connecting else { return }
            switch result {
            case .success(.error(let e)): self.notReady("Redis is not ready (\(e))")
            case .success: self.becameReady()
            case .failure: break  // the link broke or timed out: its own callback retries
            }
        }
        if !sent { notReady("cannot send to Redis") }
    }

    /// Gives up this link before it was ready, and retries with backoff.
    private func notReady(_ reason: String) {
        uv_timer_stop(timer)
        if let ac = context {
            context = nil
            redisAsyncDisconnect(ac)  // its disconnect callback then finds another context, or none
        }
        connectFailed(reason)
    }

    private func becameReady() {
        uv_timer_stop(timer)
        state = .connected
        connects += 1
        backoffMs = options.reconnectInitialMs
        flushQueue()
        onEvent?(.connected)
    }

    fileprivate func didDisconnect(_ ac: UnsafePointer<redisAsyncContext>) {
        // hiredis frees it after this callback; a context given up earlier (not ready) may
        // report its end after the next one was made.
        if let current = context, UnsafePointer(current) == ac { context = nil }
        guard state == .connected else { return }
        let reason = ac.pointee.err != 0 ? Self.errorText(ac) : "connection closed by Redis"
        failInFlight(.connectionLost, "the connection to Redis at \(endpoint) broke (\(reason)); the command may or may not have run")
        scheduleRetry()
        onEvent?(.disconnected(reason))
    }

    fileprivate func timerFired() {
        switch state {
        case .connecting:  // the connect timed out
            if let ac = context {
                context = nil
                redisAsyncFree(ac)
            }
            connectFailed("connect timed out after \(options.connectTimeoutMs) ms")
        case .waitingToRetry:
            expireQueued()
            connect()
        default: break
        }
    }

    private func connectFailed(_ reason: String) {
        scheduleRetry()
        expireQueued()
        onEvent?(.connectFailed(reason))
    }

    private func scheduleRetry() {
        state = .waitingToRetry
        uv_timer_start(timer, onRedisTimer, backoffMs, 0)
        backoffMs = Swift.min(options.reconnectMaxMs, backoffMs * 2)
    }

    // MARK: - commands

    /// Hands a command to hiredis; false when hiredis refuses it (the link is going down).
    private func issue(_ args: [[UInt8]], _ completion: @escaping Completion) -> Bool {
        guard let ac = context else { return false }
        let serial = nextSerial
        nextSerial &+= 1
        if nextSerial == 0 { nextSerial = 1 }
        inFlight[serial] = completion
        let rc = Self.withArgv(args) { argc, argv, lens in
            redisAsyncCommandArgv(ac, onRedisReply, UnsafeMutableRawPointer(bitPattern: serial), argc, argv, lens)
        }
        if rc != REDIS_OK {
            inFlight[serial] = nil
            return false
        }
        return true
    }

    fileprivate func didReply(_ serial: UInt, _ reply: UnsafeMutableRawPointer?) {
        guard let completion = inFlight.removeValue(forKey: serial) else { return }
        if let reply {
            completion(.success(RedisReply(reply.assumingMemoryBound(to: redisReply.self))))
        } else {
            let closing = state == .closed
            completion(.failure(RedisFailure(
                closing ? .closed : .connectionLost,
                closing ? "the Redis connection to \(endpoint) was closed"
                    : "the connection to Redis at \(endpoint) broke; the command may or may not have run")))
        }
    }

    private func flushQueue() {
        while queueHead < queue.count, state == .connected {
            let q = queue[queueHead]
            if !issue(q.args, q.completion) { break }
            queueHead += 1
        }
        compactQueue()
    }

    private func expireQueued() {
        let now = uv_now(loop)
        while queueHead < queue.count, now &- queue[queueHead].since >= options.maxQueueWaitMs {
            let q = queue[queueHead]
            queueHead += 1
            q.completion(.failure(RedisFailure(
                .queueTimeout, "Redis at \(endpoint) has been unreachable for \(options.maxQueueWaitMs) ms; the command was not sent")))
        }
        compactQueue()
    }

    private func compactQueue() {
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        } else if queueHead > 64, queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }

    private func failInFlight(_ code: RedisFailure.Code, _ message: String) {
        let pending = inFlight.sorted { $0.key < $1.key }
        inFlight = [:]
        for (_, c) in pending { c(.failure(RedisFailure(code, message))) }
    }

    private func failQueued(_ code: RedisFailure.Code, _ message: String) {
        let pending = queue[queueHead...]
        queue = []
        queueHead = 0
        for q in pending { q.completion(.failure(RedisFailure(code, message))) }
    }

    private static func errorText(_ ac: UnsafePointer<redisAsyncContext>) -> String {
        guard let e = ac.pointee.errstr else { return "error \(ac.pointee.err)" }
        return String(cString: e)
    }

    private static func withArgv<R>(
        _ args: [[UInt8]], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        let argv = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: Swift.max(1, args.count))
        let lens = UnsafeMutablePointer<Int>.allocate(capacity: Swift.max(1, args.count))
        var owned: [UnsafeMutablePointer<UInt8>] = []
        owned.reserveCapacity(args.count)
        defer {
            for p in owned { p.deallocate() }
            argv.deallocate()
            lens.deallocate()
        }
        for (i, a) in args.enumerated() {
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: Swift.max(1, a.count))
            a.withUnsafeBufferPointer { if let b = $0.baseAddress { p.initialize(from: b, count: a.count) } }
            owned.append(p)
            argv[i] = UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self)
            lens[i] = a.count
        }
        return body(Int32(args.count), argv, lens)
    }

    fileprivate static func from(_ ac: UnsafePointer<redisAsyncContext>?) -> RedisConnection? {
        guard let data = ac?.pointee.data else { return nil }
        return Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue()
    }
}

// C callbacks: hiredis and libuv call these on the loop thread; each finds its connection
// through the context's or the handle's data pointer.

private func onRedisConnect(_ ac: UnsafePointer<redisAsyncContext>?, _ status: Int32) {
    guard let ac, let c = RedisConnection.from(ac) else { return }
    c.didConnect(status == REDIS_OK, ac)
}

private func onRedisDisconnect(_ ac: UnsafePointer<redisAsyncContext>?, _ status: Int32) {
    guard let ac, let c = RedisConnection.from(ac) else { return }
    c.didDisconnect(ac)
}

private func onRedisReply(_ ac: UnsafeMutablePointer<redisAsyncContext>?, _ reply: UnsafeMutableRawPointer?, _ privdata: UnsafeMutableRawPointer?) {
    guard let ac, let c = RedisConnection.from(UnsafePointer(ac)) else { return }
    c.didReply(UInt(bitPattern: privdata), reply)
}

private func onRedisTimer(_ handle: UnsafeMutablePointer<uv_timer_t>?) {
    guard let handle else { return }
    let data = handle.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_handle_get_data($0) }
    guard let data else { return }
    Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue().timerFired()
}
