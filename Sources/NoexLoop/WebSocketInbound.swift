// What the frame decoder hands to the connection: whole messages, control frames, or the
// reason the connection must fail.

/// One complete inbound event, produced by `WebSocketFrameDecoder.next`.
public enum WebSocketInbound: Equatable, Sendable {
    /// A complete text message (all fragments joined), already checked to be valid UTF-8.
    case text([UInt8])
    /// A complete binary message (all fragments joined).
    case binary([UInt8])
    /// A ping control frame; RFC 6455 §5.5.2 wants a pong with the same payload.
    case ping([UInt8])
    /// A pong control frame (answer to our ping or an unsolicited heartbeat).
    case pong([UInt8])
    /// A close frame, already validated: `code` is nil when the frame had no payload,
    /// `reason` is valid UTF-8.
    case close(code: UInt16?, reason: [UInt8])
    /// The peer violated the protocol or a limit; the connection must be failed with this
    /// close code and reason (RFC 6455 §7.1.7). The decoder accepts no more input afterwards.
    case failure(WebSocketFailure)
}

/// One step of `WebSocketFrameDecoder.nextEvent`: a message still lying in the caller's input,
/// or any other event.
public enum WebSocketDecodedEvent {
    /// A complete text (already checked to be valid UTF-8) or binary message that arrived as one
    /// whole uncompressed frame: unmasked in place, a view into the input the decoder was given,
    /// valid only as long as that input is (the server's read buffer: until the next read).
    case inPlace(WebSocketOpcode, UnsafeRawBufferPointer)
    /// Anything else, owned: messages joined from fragments or reads or inflated, control
    /// frames, failures.
    case inbound(WebSocketInbound)
}

/// Why a connection is failed: the close code to send and a short ASCII reason.
public struct WebSocketFailure: Equatable, Sendable, Error {
    public let code: UInt16
    public let reason: String

    public init(code: UInt16, reason: String) {
        self.code = code
        self.reason = reason
    }

    static func protocolError(_ reason: String) -> WebSocketFailure {
        .init(code: WebSocketCloseCode.protocolError, reason: reason)
    }
    static let invalidUTF8 = WebSocketFailure(code: WebSocketCloseCode.invalidPayload, reason: "invalid UTF-8")
    /// The original (via the `ws` library) sends 1009 with an empty reason; ours names the limit
    /// and the setting that raises it, so a client's author knows what to change (a documented
    /// deviation; at most ~70 bytes, well under the 123 a close reason may hold).
    static func messageTooBig(limit: Int) -> WebSocketFailure {
        WebSocketFailure(code: WebSocketCloseCode.messageTooBig,
                         reason: "message larger than the \(limit)-byte limit (server setting maxPayloadBytes)")
    }
    /// RFC 7692 §8: a compressed message that does not inflate.
    static let invalidCompressedData = WebSocketFailure(
        code: WebSocketCloseCode.invalidPayload, reason: "invalid compressed data")
    static let inflateOutOfMemory = WebSocketFailure(code: WebSocketCloseCode.internalError, reason: "out of memory while inflating")
    static let binaryNotSupported = WebSocketFailure(
        code: WebSocketCloseCode.unsupportedData, reason: "binary_not_supported")
}
