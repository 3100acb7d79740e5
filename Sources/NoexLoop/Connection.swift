// What the server keeps per connection, in the slab.
import CUV

/// One slab entry: the libuv handle (at a stable heap address) and the pure parts that drive it.
struct Connection {
    /// Allocated at accept, freed only in the close callback.
    let tcp: UnsafeMutablePointer<uv_tcp_t>
    var machine: ConnectionStateMachine
    var upgrade: HTTPUpgradeParser
    var decoder: WebSocketFrameDecoder
    var writes: WriteQueue
    /// Whether the id is already on the server's dirty list for the next flush.
    var isDirty = false
    var info = ConnectionInfo(remoteAddress: "", remotePort: 0, connectedAtMs: 0)
    /// Loop time at which the buffered bytes went over the hard limit (slow-client check).
    var overHardLimitSinceMs: UInt64?
    /// False while reading is paused because the write queue is above its high-water mark:
    /// the socket is not read (`uv_read_stop`) and no further frames are decoded.
    var isReading = true
    /// True while the application holds reading (`WebSocketServer.holdReading`): a write
    /// queue that drains does not resume reading then.
    var readHeld = false
    /// Bytes of the last read left undecoded when reading paused (at most one read buffer);
    /// decoded first when reading resumes.
    var unconsumed: [UInt8] = []
    /// permessage-deflate as negotiated in the upgrade (nil: not offered, or compression off).
    var deflate: PerMessageDeflateParams?
    /// The connection's own compressor (context takeover only), created at the first
    /// compressed response.
    var deflater: ZlibDeflater?
}
