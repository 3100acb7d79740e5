// What the server keeps per connection, in the slab.
import CUV

/// One slab entry: the socket's descriptor and the pure parts that drive it. Every idle
/// connection holds one, so what only some connections or only the handshake need lives
/// elsewhere: the upgrade parser in the server's `handshakes` (until the 101), the
/// permessage-deflate state behind one optional reference. There is no libuv handle per socket:
/// the descriptor sits in the server's epoll set (see `SocketSet`).
struct Connection {
    // Widest first, the small fields together at the end: every idle connection holds one of
    // these, so padding is paid per connection (ConnectionLayoutTests pins the size).
    var machine: ConnectionStateMachine
    var decoder: WebSocketFrameDecoder
    var writes: WriteQueue
    /// The peer's IP as text (a small string: no allocation for IPv4) and the accept time.
    var remoteAddress: String
    var connectedAtMs: Int64
    /// Bytes of the last read left undecoded when reading paused (at most one read buffer);
    /// decoded first when reading resumes.
    var unconsumed: [UInt8] = []
    /// permessage-deflate, when negotiated in the upgrade (nil: not offered, or compression off).
    var compression: ConnectionCompression?
    /// Loop time at which the buffered bytes went over the hard limit (slow-client check).
    var overHardLimitSinceMs: UInt64?
    /// The socket; -1 once it was closed (the slot itself lives until the end of the dispatch
    /// that closed it, and the number may already belong to a newer connection).
    var fd: Int32
    var remotePort: UInt16
    /// Whether the id is already on the server's dirty list for the next flush.
    var isDirty = false
    /// False while reading is paused because the write queue is above its high-water mark:
    /// the socket is not read (EPOLLIN is out of its interest set) and no further frames are decoded.
    var isReading = true
    /// True while the application holds reading (`WebSocketServer.holdReading`): a write
    /// queue that drains does not resume reading then.
    var readHeld = false
    /// The peer half-closed (read returned 0): the socket is not read any more.
    var readEnded = false
    /// The kernel did not take the whole in-flight batch: waiting for EPOLLOUT to write the rest.
    var awaitsWritable = false
    /// The events the epoll set watches for this socket now (`SocketSet.readable`/`.writable`),
    /// so an unchanged interest costs no `epoll_ctl`.
    var watched: UInt8 = SocketSet.readable

    init(fd: Int32, machine: ConnectionStateMachine, peer: ConnectionInfo) {
        self.fd = fd
        self.machine = machine
        decoder = WebSocketFrameDecoder()
        writes = WriteQueue()
        remoteAddress = peer.remoteAddress
        remotePort = UInt16(truncatingIfNeeded: peer.remotePort)
        connectedAtMs = peer.connectedAtMs
    }

    /// Address and accept time, as the application sees them.
    var info: ConnectionInfo {
        ConnectionInfo(remoteAddress: remoteAddress, remotePort: Int(remotePort), connectedAtMs: connectedAtMs)
    }

    /// The negotiated parameters (nil without permessage-deflate).
    var deflate: PerMessageDeflateParams? { compression?.params }
}

/// A connection's permessage-deflate state: what was negotiated and, with context takeover,
/// its own compressor (created at the first compressed response).
final class ConnectionCompression {
    let params: PerMessageDeflateParams
    var deflater: ZlibDeflater?

    init(_ params: PerMessageDeflateParams) {
        self.params = params
    }
}
