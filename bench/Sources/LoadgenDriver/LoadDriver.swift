import CUV
import LoadgenCore

/// Runs one load-generator session on one libuv loop: opens the connections (a bounded number
/// at a time), then either drives pipelined requests through a warm-up and a measured window
/// (`echo`, `proto`), or holds the idle connections open (`idle`), or subscribes M connections
/// and times one writer's inserts until all M pushes arrived (`fanout`), and finally closes
/// everything.
///
/// Confined to the loop's thread. The loop is the driver's own, or one supplied by the caller
/// (tests run a server on the same loop); either way the driver only closes its own handles.
public final class LoadDriver {
    public enum Phase { case connecting, subscribing, warmup, measuring, holding, finished }

    public let options: LoadgenOptions
    let loop: UnsafeMutablePointer<uv_loop_t>
    private let ownsLoop: Bool
    /// Called once every connection is open or has failed (idle mode reports it at once).
    public var onAllConnected: ((_ opened: Int, _ failed: Int) -> Void)?
    /// Called when the session is over and its handles are closing.
    public var onFinished: (() -> Void)?
    /// Called as the measured window opens (true) and closes (false), e.g. to sample CPU time.
    public var onMeasuring: ((Bool) -> Void)?
    /// Where per-connection problems that do not end the run are reported.
    private let log: (String) -> Void
    /// Shared by every connection's reads (see `allocCallback`).
    let readBuffer: UnsafeMutableRawBufferPointer
    public private(set) var phase: Phase = .connecting
    private var connections: [ClientConnection] = []
    private var address = sockaddr_storage()
    private let timer: UnsafeMutablePointer<uv_timer_t>
    private var nextToStart = 0
    private var settingUp = 0
    public private(set) var opened = 0
    public private(set) var failedToOpen = 0
    /// Idle mode: connections the server dropped while they were held.
    public private(set) var dropped = 0
    public private(set) var report = EchoReport()
    private var measureStart: UInt64 = 0
    /// Fan-out: subscriptions confirmed, pushes for the current insert, when it was sent.
    public private(set) var subscribed = 0
    private var pushesForInsert = 0
    private var insertSentAt: UInt64 = 0
    private var subscribers: Int { options.mode == .fanout ? options.subscribers : 0 }
    /// Set when the run cannot produce valid figures; printed instead of them.
    public private(set) var failure: String?
    /// Why the first answer that was not the expected one was wrong (nil while all were right).
    public private(set) var firstUnexpected: String?

    /// `loop`: run on this loop instead of a private one (the caller then runs it).
    public init(
        options: LoadgenOptions, loop externalLoop: UnsafeMutablePointer<uv_loop_t>? = nil,
        log: @escaping (String) -> Void, makeGenerator: (_ connection: Int) -> any RequestGenerator
    ) throws(DriverError) {
        self.options = options
        self.log = log
        if let externalLoop {
            loop = externalLoop
            ownsLoop = false
        } else {
            loop = .allocate(capacity: 1)
            ownsLoop = true
            guard uv_loop_init(loop) == 0 else {
                loop.deallocate()
                throw .setup("uv_loop_init failed")
            }
        }
        readBuffer = .allocate(byteCount: 256 * 1024, alignment: 16)
        timer = .allocate(capacity: 1)
        uv_timer_init(loop, timer)
        let rc = withUnsafeMutablePointer(to: &address) { storage -> Int32 in
            if options.address.contains(":") {
                return storage.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    uv_ip6_addr(options.address, Int32(options.port), $0)
                }
            }
            return storage.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                uv_ip4_addr(options.address, Int32(options.port), $0)
            }
        }
        guard rc == 0 else { throw .setup("bad address \(options.address): \(uvError(rc))") }
        let seed = uv_hrtime()
        switch options.mode {
        case .echo, .proto, .idle, .hostile:
            let inflight = options.mode == .idle ? 1 : options.inflight
            connections = (0..<options.connections).map { index in
                ClientConnection(
                    driver: self, index: index, generator: makeGenerator(index), inflight: inflight,
                    continuous: options.mode != .hostile,
                    seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
            }
        case .fanout:
            // Connection 0 writes (one insert at a time, sent by the driver); 1...M subscribe once.
            connections = (0...options.subscribers).map { index in
                ClientConnection(
                    driver: self, index: index, generator: makeGenerator(index),
                    inflight: index == 0 ? 0 : 1, continuous: false, ringCapacity: index == 0 ? 16 : 1,
                    seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
            }
        }
        timer.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    /// The same, with one generator for every connection.
    public convenience init(
        options: LoadgenOptions, loop externalLoop: UnsafeMutablePointer<uv_loop_t>? = nil,
        log: @escaping (String) -> Void, makeGenerator: () -> any RequestGenerator
    ) throws(DriverError) {
        try self.init(options: options, loop: externalLoop, log: log) { (_: Int) in makeGenerator() }
    }

    /// Starts connecting; the loop must then be run (see `run`).
    public func start() {
        arm(seconds: options.connectTimeout)
        startMoreConnections()
    }

    /// Starts and runs the driver's own loop until the session is over (bounded by the
    /// connect timeout and the durations).
    public func run() {
        start()
        uv_run(loop, UV_RUN_DEFAULT)
    }

    /// Whether answers should trigger new requests (false once the measurement is over).
    var keepsSending: Bool { phase == .warmup || phase == .measuring }

    func recordAnswer(latency: UInt64?, correct: Bool) {
        guard phase == .measuring else { return }
        if options.mode == .fanout {
            // The writer's insert results: only their errors count (latency is the last push's).
            if !correct { report.wrongAnswers += 1 }
            return
        }
        if let latency, correct {
            report.record(latencyNanoseconds: latency)
        } else {
            report.wrongAnswers += 1
        }
    }

    /// Keeps the first wrong answer's explanation and reports it at once (the run goes on, so
    /// the count of wrong answers stays meaningful).
    func noteUnexpected(connection: Int, _ why: String) {
        guard firstUnexpected == nil else { return }
        firstUnexpected = why
        log("connection \(connection): \(why)")
    }

    /// The answer to a setup request (pre-insert, subscribe): a failed one invalidates the run.
    func setupAnswered(_ connection: ClientConnection, ok: Bool) {
        guard phase != .finished else { return }
        guard ok else {
            return abort("connection \(connection.index): a setup request (insert of a key to read, or subscribe) failed: "
                + (firstUnexpected ?? "no reason given"))
        }
        guard options.mode == .fanout, phase == .subscribing else { return }
        subscribed += 1
        if subscribed == subscribers { startLoad() }
    }

    /// Fan-out: a subscription push arrived. The M-th push of the current insert times it and
    /// lets the writer send the next one.
    func recordPush(receivedAt now: UInt64) {
        guard options.mode == .fanout, phase == .warmup || phase == .measuring else { return }
        if phase == .measuring { report.pushes += 1 }
        pushesForInsert += 1
        guard pushesForInsert == subscribers else { return }
        if phase == .measuring { report.record(latencyNanoseconds: now &- insertSentAt) }
        sendInsert()
    }

    private func sendInsert() {
        pushesForInsert = 0
        insertSentAt = uv_hrtime()
        connections[0].sendOne()
    }

    func connectionOpened(_ connection: ClientConnection) {
        opened += 1
        settingUp -= 1
        startMoreConnections()
        if opened + failedToOpen == connections.count { allConnected() }
    }

    func connectionFailed(_ connection: ClientConnection, reason: String) {
        switch phase {
        case .finished:
            return
        case .connecting:
            if options.mode != .idle { return abort("connection \(connection.index): \(reason)") }
            failedToOpen += 1
            settingUp -= 1
            log("connection \(connection.index): \(reason)")
            startMoreConnections()
            if opened + failedToOpen == connections.count { allConnected() }
        case .subscribing, .warmup, .measuring:
            abort("connection \(connection.index): \(reason)")
        case .holding:
            dropped += 1
        }
    }

    private func startMoreConnections() {
        guard phase == .connecting else { return }
        while settingUp < options.connectConcurrency && nextToStart < connections.count {
            let connection = connections[nextToStart]
            nextToStart += 1
            settingUp += 1
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connection.start(address: $0) }
            }
        }
    }

    private func allConnected() {
        switch options.mode {
        case .echo, .proto:
            for connection in connections { connection.primeRequests() }
            startLoad()
        case .fanout:
            phase = .subscribing
            arm(seconds: options.connectTimeout)
            for connection in connections { connection.primeRequests() }
        case .idle:
            phase = .holding
            arm(seconds: options.seconds)
        case .hostile:
            // Each connection sends its whole burst and never reads an answer.
            phase = .holding
            for connection in connections {
                connection.primeRequests()
                connection.stopReading()
            }
            arm(seconds: options.seconds)
        }
        onAllConnected?(opened, failedToOpen)
    }

    /// Warm-up (if any), then the measured window; the fan-out writer starts inserting.
    private func startLoad() {
        if options.warmup > 0 {
            phase = .warmup
            arm(seconds: options.warmup)
        } else {
            beginMeasuring()
        }
        if options.mode == .fanout { sendInsert() }
    }

    private func beginMeasuring() {
        report = EchoReport()
        onMeasuring?(true)
        measureStart = uv_hrtime()
        phase = .measuring
        arm(seconds: options.seconds)
    }

    fileprivate func timerFired() {
        switch phase {
        case .connecting:
            let reason = "only \(opened) of \(connections.count) connections opened within \(options.connectTimeout) s"
            if options.mode != .idle { return abort(reason) }
            log(reason)
            failedToOpen = connections.count - opened
            allConnected()
        case .subscribing:
            abort("only \(subscribed) of \(subscribers) subscriptions confirmed within \(options.connectTimeout) s")
        case .warmup:
            beginMeasuring()
        case .measuring:
            report.elapsedNanoseconds = uv_hrtime() &- measureStart
            onMeasuring?(false)
            finish()
        case .holding:
            finish()
        case .finished:
            break
        }
    }

    private func abort(_ reason: String) {
        guard phase != .finished else { return }
        failure = reason
        finish()
    }

    /// Closes every handle; `uv_run` returns once their close callbacks have run.
    private func finish() {
        phase = .finished
        uv_timer_stop(timer)
        for connection in connections { connection.close() }
        timer.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_close($0, nil) }
        onFinished?()
    }

    private func arm(seconds: Double) {
        uv_timer_stop(timer)
        uv_timer_start(timer, timerCallback, UInt64((seconds * 1000).rounded()), 0)
    }

    /// Whether every connection asked for was opened and held (idle mode's exit status).
    public var allOpened: Bool { opened == connections.count && dropped == 0 }

    /// Only valid once the loop has run to completion (the timer's close callback has run).
    deinit {
        if ownsLoop {
            uv_loop_close(loop)
            loop.deallocate()
        }
        timer.deallocate()
        readBuffer.deallocate()
    }
}

public enum DriverError: Error {
    case setup(String)
}

private let timerCallback: uv_timer_cb = { timer in
    guard let data = timer?.pointee.data else { return }
    Unmanaged<LoadDriver>.fromOpaque(data).takeUnretainedValue().timerFired()
}
