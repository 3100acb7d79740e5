/// Says why an answer was not the one a generator expected, in terms of the likely mistake: the
/// usual one is loading the wrong kind of server (echo load against the protocol server, or
/// protocol load against `noex-server --echo`). Built only for the first unexpected answer of a
/// run, so its cost does not matter.
public enum UnexpectedAnswer {
    /// The echo generator got something other than its own payload back.
    public static func forEcho(sentBytes: Int, opcode: Opcode, payload: UnsafeRawBufferPointer) -> String {
        if opcode == .text, ProtocolMessage.scan(payload) != nil {
            return "the server answered with a noex protocol message, not the echo of what was sent: \(excerpt(payload)); "
                + "echo load needs an echo server (noex-server --echo --port P); "
                + "to load the protocol server use --mode proto (see bench/README.md)"
        }
        return "expected the \(sentBytes)-byte text message that was sent back, got a \(opcode) message of \(payload.count) bytes: \(excerpt(payload))"
    }

    /// A protocol generator got an answer that is not a result for the oldest request.
    public static func forProtocol(opcode: Opcode, payload: UnsafeRawBufferPointer, expectedID: Int64?) -> String {
        guard opcode == .text, let message = ProtocolMessage.scan(payload) else {
            return "the server answered with something that is not a noex protocol message: \(excerpt(payload)); "
                + "--mode proto/fanout need the protocol server (e.g. noex-server -c bench/proto-config.json, see bench/README.md)"
        }
        if message.kind == .error {
            return "the server answered with an error: \(excerpt(payload))"
        }
        if message.kind == .other {
            return "the server sent back a message that is neither a result nor an error: \(excerpt(payload)); "
                + "if that is the request itself, the server is an echo server (--echo): "
                + "--mode proto/fanout need the protocol server (e.g. noex-server -c bench/proto-config.json, see bench/README.md)"
        }
        if let expectedID, message.id != expectedID {
            return "the server answered id \(message.id.map(String.init) ?? "none") where id \(expectedID) was expected: \(excerpt(payload))"
        }
        return "unexpected answer: \(excerpt(payload))"
    }

    /// The first 200 bytes of a message as text, so a long answer still fits on one line.
    public static func excerpt(_ payload: UnsafeRawBufferPointer) -> String {
        let limit = 200
        let shown = String(decoding: payload.prefix(limit), as: UTF8.self)
            .map { $0 == "\n" || $0 == "\r" ? " " : String($0) }.joined()
        return payload.count > limit ? "'\(shown)…' (\(payload.count) bytes)" : "'\(shown)'"
    }
}
