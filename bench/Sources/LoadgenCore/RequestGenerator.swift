/// What the load generator sends on a connection and how it recognises the answers.
///
/// One generator per connection. Answers are assumed to come back in request order on a
/// connection (true for an echo server, and for a request/response protocol that answers each
/// connection's requests in order); messages that are not answers (server pushes) are told
/// apart by `classify` and not timed.
public protocol RequestGenerator {
    /// The frame type every request is sent as.
    var opcode: Opcode { get }

    /// Calls `body` with the payload of request number `sequence` (0, 1, 2, ... per connection).
    mutating func withRequest(sequence: UInt64, _ body: (UnsafeRawBufferPointer) -> Void)

    /// Classifies one complete message received from the server (mutating: a generator may
    /// track which answer it expects next).
    mutating func classify(opcode: Opcode, payload: UnsafeRawBufferPointer) -> Reply

    /// Why this message (just classified as a wrong answer or a failed setup) was not what the
    /// generator expected, naming the likely fix; reported once per run.
    func explainUnexpected(opcode: Opcode, payload: UnsafeRawBufferPointer) -> String
}

extension RequestGenerator {
    /// The protocol generators' explanation (an error answer, a non-protocol message, an id
    /// out of order).
    public func explainUnexpected(opcode: Opcode, payload: UnsafeRawBufferPointer) -> String {
        UnexpectedAnswer.forProtocol(opcode: opcode, payload: payload, expectedID: nil)
    }
}

public enum Reply: Equatable, Sendable {
    /// The answer to the oldest outstanding request, as expected.
    case answer
    /// The answer to the oldest outstanding request, but not what was expected.
    case wrongAnswer
    /// Not an answer to a request (e.g. a welcome message); ignored by the latency accounting.
    case unsolicited
    /// A subscription push (no request of ours is answered by it); counted by fan-out runs.
    case push
    /// The answer to the oldest outstanding request, which was a setup request (pre-inserting
    /// keys, subscribing): not timed; `ok: false` makes the run's figures invalid.
    case setup(ok: Bool)
}

/// Echo mode: every request is the same `size`-byte text payload, and the answer must be
/// that payload back as a text message.
public struct EchoGenerator: RequestGenerator {
    public let opcode: Opcode = .text
    private let payload: [UInt8]

    public init(size: Int) {
        // Printable ASCII, so the message is valid UTF-8 text of exactly `size` bytes.
        payload = (0..<size).map { UInt8(ascii: "a") + UInt8($0 % 26) }
    }

    public mutating func withRequest(sequence: UInt64, _ body: (UnsafeRawBufferPointer) -> Void) {
        payload.withUnsafeBytes(body)
    }

    public func classify(opcode: Opcode, payload received: UnsafeRawBufferPointer) -> Reply {
        guard opcode == .text, received.count == payload.count else { return .wrongAnswer }
        let same = payload.withUnsafeBytes { expected in
            expected.count == 0 || memcmpEqual(expected, received)
        }
        return same ? .answer : .wrongAnswer
    }

    public func explainUnexpected(opcode: Opcode, payload received: UnsafeRawBufferPointer) -> String {
        UnexpectedAnswer.forEcho(sentBytes: payload.count, opcode: opcode, payload: received)
    }
}

private func memcmpEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    for i in 0..<a.count where a[i] != b[i] { return false }
    return true
}
