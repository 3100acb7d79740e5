// Everything the transport can be told, with defaults matching the original where it has one.

/// How the server stops (see `WebSocketServer.stop`).
public struct StopOptions: Equatable, Sendable {
    /// Time during which connections keep working normally after `onStopping` (0: none).
    public var gracePeriodMs: UInt64
    /// Close code sent to connections still open after the grace period.
    public var closeCode: UInt16
    /// Close reason sent with `closeCode`.
    public var closeReason: String

    public init(gracePeriodMs: UInt64 = 0, closeCode: UInt16 = WebSocketCloseCode.goingAway,
        closeReason: String = "server_shutting_down")
    {
        self.gracePeriodMs = gracePeriodMs
        self.closeCode = closeCode
        self.closeReason = closeReason
    }
}

/// Configuration of a `WebSocketServer`.
public struct WebSocketServerConfig: Sendable {
    /// Address to bind (IPv4 dotted quad or IPv6 literal).
    public var host: String
    /// Port to bind; 0 lets the kernel pick one (read it back from `WebSocketServer.port`).
    public var port: Int
    /// Path, origin list and header cap of the HTTP upgrade.
    public var upgrade: HTTPUpgradeConfig
    /// Message size limit and binary policy.
    public var decoder: WebSocketDecoderConfig
    /// Outbound buffering thresholds per connection.
    public var writeLimits: WriteQueueLimits
    /// Server-driven liveness checks; nil disables them (echo mode).
    public var heartbeat: HeartbeatConfig?
    /// A client must complete its HTTP upgrade within this time or it is dropped.
    public var handshakeTimeoutMs: UInt64
    /// After a close frame is sent or received, the socket is closed at the latest after this.
    public var closingTimeoutMs: UInt64
    /// A connection buffered above `writeLimits.hardLimitBytes` for this long is disconnected
    /// (Redis' client-output-buffer-limit); nil never disconnects.
    public var slowClientTimeoutMs: UInt64?
    /// Period of the one sweep timer that checks all deadlines.
    public var sweepIntervalMs: UInt64
    /// listen(2) backlog.
    public var backlog: Int32
    /// Default stop behaviour (signals and `StopHandle.stop()`).
    public var stop: StopOptions
    /// Write a batch (and a push to an idle connection) as soon as it is ready; false waits for
    /// the socket's writable event before every batch, one loop iteration later. A tuning knob
    /// for benchmarks.
    public var useTryWrite = true
    /// permessage-deflate (RFC 7692): nil (the default) never negotiates it.
    public var compression: PerMessageDeflateConfig?

    public init(
        host: String = "127.0.0.1", port: Int = 0,
        upgrade: HTTPUpgradeConfig = .init(),
        decoder: WebSocketDecoderConfig = .init(),
        writeLimits: WriteQueueLimits = .init(),
        heartbeat: HeartbeatConfig? = nil,
        handshakeTimeoutMs: UInt64 = 10_000,
        closingTimeoutMs: UInt64 = 5_000,
        slowClientTimeoutMs: UInt64? = 30_000,
        sweepIntervalMs: UInt64 = 250,
        backlog: Int32 = 511,
        stop: StopOptions = .init(),
        compression: PerMessageDeflateConfig? = nil
    ) {
        precondition(sweepIntervalMs > 0, "sweepIntervalMs must be positive")
        self.host = host
        self.port = port
        self.upgrade = upgrade
        self.decoder = decoder
        self.writeLimits = writeLimits
        self.heartbeat = heartbeat
        self.handshakeTimeoutMs = handshakeTimeoutMs
        self.closingTimeoutMs = closingTimeoutMs
        self.slowClientTimeoutMs = slowClientTimeoutMs
        self.sweepIntervalMs = sweepIntervalMs
        self.backlog = backlog
        self.stop = stop
        self.compression = compression
    }
}

/// What the application learns from the transport. All calls happen on the loop thread.
/// Default implementations do nothing (binary messages are ignored unless handled).
public protocol WebSocketServerDelegate: AnyObject {
    /// The handshake completed; `id` stays valid until `onClose`.
    func onOpen(_ server: WebSocketServer, _ id: ConnectionID, remoteAddress: String)
    /// A complete, UTF-8-valid text message. `bytes` is borrowed: valid only until the call
    /// returns (it usually points into the server's read buffer); copy what must outlive it.
    func onText(_ server: WebSocketServer, _ id: ConnectionID, _ bytes: UnsafeRawBufferPointer)
    /// A complete binary message (only when `decoder.rejectBinary` is false); borrowed like
    /// `onText`'s.
    func onBinary(_ server: WebSocketServer, _ id: ConnectionID, _ bytes: UnsafeRawBufferPointer)
    /// The connection is gone (socket closed); `code` is the peer's close code, our own code
    /// when we closed first, 1005 for a close without code, 1006 without any close frame.
    func onClose(_ server: WebSocketServer, _ id: ConnectionID, code: UInt16)
    /// An application-style heartbeat ping is due on `id` (send it; call `pongReceived` when
    /// it is answered).
    func onHeartbeat(_ server: WebSocketServer, _ id: ConnectionID)
    /// The outbound buffer crossed the high-water mark (false) or fell back to the low-water
    /// mark (true).
    func onWritabilityChanged(_ server: WebSocketServer, _ id: ConnectionID, writable: Bool)
    /// Coalescing pushes with these keys were dropped because the connection was over its
    /// hard limit; its queue has now drained: send their current state again.
    func onStalePushes(_ server: WebSocketServer, _ id: ConnectionID, keys: [UInt64])
    /// Accepting connections failed (EMFILE, ENFILE, ...): at most one report per second, naming
    /// the newest failure, with `count` failures since the previous report. The server keeps
    /// listening (the total is `WebSocketServer.acceptErrors`).
    func onAcceptError(_ server: WebSocketServer, _ error: UVError, count: Int)
    /// `stop` began with a grace period: connections work normally until it ends.
    func onStopping(_ server: WebSocketServer, gracePeriodMs: UInt64)
    /// The stop finished: every handle is closed and `run()` is about to return.
    func onStopped(_ server: WebSocketServer)
    /// A plain `GET`/`HEAD` (no upgrade asked, not on the WebSocket path) arrived: return the
    /// answer, or nil to treat it as a failed upgrade as before (404). The connection closes
    /// after the answer; a `HEAD` gets the headers only.
    func onPlainRequest(_ server: WebSocketServer, _ request: HTTPRequestHead) -> HTTPPlainResponse?
}

extension WebSocketServerDelegate {
    public func onOpen(_ server: WebSocketServer, _ id: ConnectionID, remoteAddress: String) {}
    public func onText(_ server: WebSocketServer, _ id: ConnectionID, _ bytes: UnsafeRawBufferPointer) {}
    public func onBinary(_ server: WebSocketServer, _ id: ConnectionID, _ bytes: UnsafeRawBufferPointer) {}
    public func onClose(_ server: WebSocketServer, _ id: ConnectionID, code: UInt16) {}
    public func onHeartbeat(_ server: WebSocketServer, _ id: ConnectionID) {}
    public func onWritabilityChanged(_ server: WebSocketServer, _ id: ConnectionID, writable: Bool) {}
    public func onStalePushes(_ server: WebSocketServer, _ id: ConnectionID, keys: [UInt64]) {}
    public func onAcceptError(_ server: WebSocketServer, _ error: UVError, count: Int) {}
    public func onStopping(_ server: WebSocketServer, gracePeriodMs: UInt64) {}
    public func onStopped(_ server: WebSocketServer) {}
    public func onPlainRequest(_ server: WebSocketServer, _ request: HTTPRequestHead) -> HTTPPlainResponse? { nil }
}

/// Public facts about one connection.
public struct ConnectionInfo: Equatable, Sendable {
    /// Peer IP as text (`127.0.0.1`, `::1`; `unknown` when the socket cannot tell, as in the original).
    public var remoteAddress: String
    /// Peer port.
    public var remotePort: Int
    /// Wall-clock time of accept, ms since the Unix epoch.
    public var connectedAtMs: Int64
}

/// What `send` did.
public enum SendResult: Equatable, Sendable {
    /// Queued for the next flush.
    case queued
    /// Replaced an older pending push with the same key.
    case coalesced
    /// An event push dropped because the client is over the hard limit.
    case dropped
    /// The connection is not open (closing, closed or unknown id); nothing was queued.
    case notOpen
}
