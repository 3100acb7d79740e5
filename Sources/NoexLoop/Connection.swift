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
}
