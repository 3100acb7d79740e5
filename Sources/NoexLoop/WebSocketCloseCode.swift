// RFC 6455 §7.4 status codes, plus the application codes the noex protocol uses.

/// Close status codes the transport sends or checks.
public enum WebSocketCloseCode {
    /// The purpose of the connection was fulfilled.
    public static let normalClosure: UInt16 = 1000
    /// The server is going away (shutdown).
    public static let goingAway: UInt16 = 1001
    /// The peer broke the framing rules (unmasked frame, reserved bits, bad fragmentation…).
    public static let protocolError: UInt16 = 1002
    /// The peer sent a data type this endpoint does not accept (binary in JSON mode).
    public static let unsupportedData: UInt16 = 1003
    /// Reserved: "no status code present"; never sent on the wire.
    public static let noStatusReceived: UInt16 = 1005
    /// Text that is not valid UTF-8 (in a message or a close reason).
    public static let invalidPayload: UInt16 = 1007
    /// A message larger than the configured maximum.
    public static let messageTooBig: UInt16 = 1009
    /// An unexpected condition on our side.
    public static let internalError: UInt16 = 1011
    /// noex: no pong within the heartbeat timeout.
    public static let heartbeatTimeout: UInt16 = 4001

    /// Whether a code received in a close frame is allowed on the wire (RFC 6455 §7.4.1/§7.4.2
    /// and the IANA registry): 1000–1003, 1007–1014 and the 3000–4999 range for libraries and
    /// applications. Anything else (0–999, 1004–1006, 1015, 1016–2999, ≥ 5000) is a protocol
    /// error.
    public static func isValidOnWire(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }
}
