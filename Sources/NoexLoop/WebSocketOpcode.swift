// RFC 6455 §5.2 opcodes.

/// The 4-bit frame opcode. Values not listed here are reserved and fail the connection (1002).
public enum WebSocketOpcode: UInt8, Sendable {
    /// A later fragment of a fragmented text or binary message.
    case continuation = 0x0
    /// The first (or only) frame of a UTF-8 text message.
    case text = 0x1
    /// The first (or only) frame of a binary message.
    case binary = 0x2
    /// Starts or answers the closing handshake.
    case close = 0x8
    /// Liveness probe; the peer answers with a pong carrying the same payload.
    case ping = 0x9
    /// Answer to a ping (or an unsolicited heartbeat).
    case pong = 0xA

    /// Control frames (close, ping, pong) are at most 125 bytes and never fragmented (§5.5).
    public var isControl: Bool { rawValue & 0x8 != 0 }
}
