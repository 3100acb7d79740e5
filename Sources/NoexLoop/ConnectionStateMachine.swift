// The life of one connection as a value type: handshake -> open -> closing -> closed.
// Events come in as mutating calls (the clock is a parameter), actions come out; the loop
// executes them. No I/O, no clock, no libuv here.

/// Liveness policy applied by the sweep timer to open connections.
public struct HeartbeatConfig: Equatable, Sendable {
    /// How the ping is sent.
    public enum Style: Equatable, Sendable {
        /// A WebSocket ping control frame; any pong frame counts as the answer.
        case webSocketPing
        /// The application sends its own ping (the noex JSON `{"type":"ping"}`) from the
        /// `onHeartbeat` callback and reports answers with `WebSocketServer.pongReceived`.
        case application
    }
    /// Time from connection open (and from each ping) to the next ping.
    public var intervalMs: UInt64
    /// A ping unanswered this long closes the connection with 4001 `heartbeat_timeout`.
    public var timeoutMs: UInt64
    public var style: Style

    public init(intervalMs: UInt64 = 30_000, timeoutMs: UInt64 = 10_000, style: Style = .application) {
        precondition(intervalMs > 0 && timeoutMs > 0, "heartbeat interval and timeout must be positive")
        self.intervalMs = intervalMs
        self.timeoutMs = timeoutMs
        self.style = style
    }
}

/// The server's closing deadline and heartbeat: the same for every connection, so they are passed
/// to the calls that need them instead of being kept in every connection's slab entry.
public struct ConnectionTiming: Equatable, Sendable {
    /// The longest a closing connection stays open.
    public var closingTimeoutMs: UInt64
    /// nil: no heartbeat.
    public var heartbeat: HeartbeatConfig?

    public init(closingTimeoutMs: UInt64, heartbeat: HeartbeatConfig?) {
        self.closingTimeoutMs = closingTimeoutMs
        self.heartbeat = heartbeat
    }
}

/// Per-connection protocol state. Lives in the server's slab and is mutated in place.
public struct ConnectionStateMachine: Equatable {
    /// Heartbeat bookkeeping of an open connection.
    public struct OpenState: Equatable {
        /// When the next ping is due.
        public var nextPingAtMs: UInt64
        /// When the unanswered ping was sent; nil when no answer is outstanding.
        public var pingSentAtMs: UInt64?
    }

    /// Progress of the closing handshake (RFC 6455 §7).
    public struct ClosingState: Equatable {
        /// After this the socket is closed whatever the peer does.
        public var deadlineMs: UInt64
        /// Whether the peer's close frame (or EOF) arrived.
        public var closeReceived: Bool
        /// Whether we queued a close frame (or an HTTP rejection).
        public var closeSent: Bool
        /// Whether inbound bytes are still decoded (false after a failure or a rejected
        /// handshake: the stream is then unparseable and only EOF or the deadline end it).
        public var readsFrames: Bool
        /// Whether the write side was shut down (FIN sent) after our close drained.
        public var writeShutDown: Bool
    }

    /// Where the connection is.
    public enum State: Equatable {
        /// TCP accepted, waiting for a complete HTTP upgrade request until the deadline.
        case handshake(deadlineMs: UInt64)
        /// WebSocket open: messages flow both ways.
        case open(OpenState)
        /// A close frame was sent or received; waiting for the other half, the drain or the
        /// deadline.
        case closing(ClosingState)
        /// The socket was closed (uv_close issued); the slot is freed by the close callback.
        case closed
    }

    /// What the loop must do after an event.
    public enum Action: Equatable {
        /// Nothing.
        case none
        /// Send the 101 response and report the open connection to the application.
        case acceptUpgrade
        /// Send this HTTP error; the connection then closes.
        case rejectUpgrade(HTTPRejection)
        /// Hand a complete text message to the application.
        case deliverText([UInt8])
        /// Hand a complete binary message to the application.
        case deliverBinary([UInt8])
        /// Answer a ping (RFC 6455 §5.5.3) with the same payload.
        case sendPong([UInt8])
        /// Send a heartbeat ping (frame or application message, per `HeartbeatConfig.style`).
        case sendPing
        /// Queue a close frame (nil code = empty payload, the echo of a code-less close).
        case sendClose(code: UInt16?, reason: [UInt8])
        /// Our close drained but the peer has not closed: send FIN and wait for EOF.
        case shutdownWrite
        /// Close the socket now (uv_close; queued writes are cancelled).
        case closeSocket
    }

    public private(set) var state: State
    /// The code reported to the application when the connection ends: the peer's close code,
    /// 1005 for a close frame without code, our own code when we closed first, 1006 when the
    /// TCP connection ended without any close frame.
    public private(set) var closeCode: UInt16 = 1006
    /// Set once the application has seen `onOpen` (so it sees `onClose` exactly once).
    public private(set) var wasOpened = false

    public init(nowMs: UInt64, handshakeTimeoutMs: UInt64) {
        self.state = .handshake(deadlineMs: nowMs &+ handshakeTimeoutMs)
    }

    /// Whether the application may still queue messages.
    public var isOpen: Bool {
        if case .open = state { return true }
        return false
    }

    /// Whether inbound bytes should go to the frame decoder.
    public var readsFrames: Bool {
        switch state {
        case .open: return true
        case .closing(let c): return c.readsFrames
        case .handshake, .closed: return false
        }
    }

    // MARK: - Events

    /// The upgrade request was parsed and validated (or not).
    public mutating func upgradeFinished(_ result: Result<Void, HTTPRejection>, nowMs: UInt64, timing: ConnectionTiming) -> Action {
        guard case .handshake = state else { preconditionFailure("Invalid state for upgrade: \(state)") }
        switch result {
        case .success:
            let next = nowMs &+ (timing.heartbeat?.intervalMs ?? 0)
            state = .open(OpenState(nextPingAtMs: next, pingSentAtMs: nil))
            wasOpened = true
            return .acceptUpgrade
        case .failure(let rejection):
            state = .closing(ClosingState(deadlineMs: nowMs &+ timing.closingTimeoutMs, closeReceived: false,
                closeSent: true, readsFrames: false, writeShutDown: false))
            return .rejectUpgrade(rejection)
        }
    }

    /// A plain HTTP request (not an upgrade) was answered: as after a rejected handshake, the
    /// connection closes once the answer is written. Returns false outside the handshake.
    @discardableResult
    public mutating func plainRequestAnswered(nowMs: UInt64, timing: ConnectionTiming) -> Bool {
        guard case .handshake = state else { return false }
        state = .closing(ClosingState(deadlineMs: nowMs &+ timing.closingTimeoutMs, closeReceived: false,
            closeSent: true, readsFrames: false, writeShutDown: false))
        return true
    }

    /// A decoded event arrived.
    public mutating func received(_ inbound: WebSocketInbound, nowMs: UInt64, timing: ConnectionTiming) -> Action {
        switch state {
        case .open(var open):
            switch inbound {
            case .text(let bytes): return .deliverText(bytes)
            case .binary(let bytes): return .deliverBinary(bytes)
            case .ping(let payload): return .sendPong(payload)
            case .pong:
                if timing.heartbeat?.style == .webSocketPing {
                    open.pingSentAtMs = nil
                    state = .open(open)
                }
                return .none
            case .close(let code, _):
                // §5.5.1: echo the status code; the server then closes TCP first (§7.1.1).
                closeCode = code ?? WebSocketCloseCode.noStatusReceived
                state = .closing(ClosingState(deadlineMs: nowMs &+ timing.closingTimeoutMs, closeReceived: true,
                    closeSent: true, readsFrames: false, writeShutDown: false))
                return .sendClose(code: code, reason: [])
            case .failure(let failure):
                closeCode = failure.code
                state = .closing(ClosingState(deadlineMs: nowMs &+ timing.closingTimeoutMs, closeReceived: false,
                    closeSent: true, readsFrames: false, writeShutDown: false))
                return .sendClose(code: failure.code, reason: Array(failure.reason.utf8))
            }
        case .closing(var closing):
            switch inbound {
            case .close:
                // The answer to our close: the handshake is complete.
                closing.closeReceived = true
                closing.readsFrames = false
                state = .closing(closing)
                return closing.writeShutDown ? .closeSocket : .none
            case .failure:
                state = .closed
                return .closeSocket
            case .text, .binary, .ping, .pong:
                // §1.4: after sending close, data is discarded.
                return .none
            }
        case .handshake, .closed:
            return .none
        }
    }

    /// The application (or the server's shutdown) closes the connection.
    public mutating func closeRequested(code: UInt16, reason: [UInt8], nowMs: UInt64, timing: ConnectionTiming) -> Action {
        switch state {
        case .open:
            closeCode = code
            state = .closing(ClosingState(deadlineMs: nowMs &+ timing.closingTimeoutMs, closeReceived: false,
                closeSent: true, readsFrames: true, writeShutDown: false))
            return .sendClose(code: code, reason: reason)
        case .handshake:
            state = .closed
            return .closeSocket
        case .closing, .closed:
            return .none
        }
    }

    /// All queued bytes were written. Only meaningful while closing.
    public mutating func writesDrained(nowMs: UInt64) -> Action {
        guard case .closing(var closing) = state, closing.closeSent else { return .none }
        if closing.closeReceived {
            state = .closed
            return .closeSocket
        }
        if closing.writeShutDown { return .none }
        closing.writeShutDown = true
        state = .closing(closing)
        return .shutdownWrite
    }

    /// The peer half-closed (EOF). With outbound bytes still queued (an HTTP error, a close
    /// frame, responses) they are flushed first and the socket closes at the drain or the
    /// closing deadline; otherwise it closes now.
    public mutating func peerEnded(writesPending: Bool, nowMs: UInt64, timing: ConnectionTiming) -> Action {
        if case .closed = state { return .none }
        guard writesPending else { return peerDisconnected() }
        if case .closing(var closing) = state {
            closing.closeReceived = true
            closing.readsFrames = false
            state = .closing(closing)
        } else {
            state = .closing(ClosingState(deadlineMs: nowMs &+ timing.closingTimeoutMs, closeReceived: true,
                closeSent: true, readsFrames: false, writeShutDown: false))
        }
        return .none
    }

    /// The socket failed (or must go now): close without flushing.
    public mutating func peerDisconnected() -> Action {
        if case .closed = state { return .none }
        state = .closed
        return .closeSocket
    }

    /// The application answered a heartbeat (application style).
    public mutating func pongReceived() {
        guard case .open(var open) = state else { return }
        open.pingSentAtMs = nil
        state = .open(open)
    }

    /// Called by the loop-wide sweep timer: expires handshake and closing deadlines and drives
    /// the heartbeat.
    public mutating func tick(nowMs: UInt64, timing: ConnectionTiming) -> Action {
        switch state {
        case .handshake(let deadline):
            // A client that never finishes its handshake is dropped without an answer.
            guard nowMs >= deadline else { return .none }
            state = .closed
            return .closeSocket
        case .open(var open):
            guard let heartbeat = timing.heartbeat else { return .none }
            if let sent = open.pingSentAtMs {
                guard nowMs &- sent >= heartbeat.timeoutMs else { return .none }
                return closeRequested(code: WebSocketCloseCode.heartbeatTimeout,
                    reason: Array("heartbeat_timeout".utf8), nowMs: nowMs, timing: timing)
            }
            guard nowMs >= open.nextPingAtMs else { return .none }
            open.pingSentAtMs = nowMs
            open.nextPingAtMs = nowMs &+ heartbeat.intervalMs
            state = .open(open)
            return .sendPing
        case .closing(let closing):
            guard nowMs >= closing.deadlineMs else { return .none }
            state = .closed
            return .closeSocket
        case .closed:
            return .none
        }
    }
}
