/// Matches a connection's answers to its requests by `id`: requests carry ids 1, 2, 3, ... and
/// the server answers one connection's requests in order, so each answer must carry the oldest
/// outstanding id. An answer with another id is a mismatch (and resynchronises on it).
public struct ResponseMatcher: Sendable {
    public enum Match: Equatable, Sendable {
        /// The answer to request `id` (the oldest outstanding one); `ok` is false for an error.
        case answer(id: Int64, ok: Bool)
        /// An answer whose id is not the oldest outstanding one (or not an integer).
        case mismatch
        case push
        /// Not an answer (welcome, ping, system message).
        case unsolicited
        /// Not a protocol message at all (not a JSON object with a `type`).
        case malformed
    }

    /// The id the next answer must carry.
    public private(set) var expectedID: Int64 = 1

    public init() {}

    /// The id request `sequence` (0, 1, 2, ...) is sent with.
    @inlinable
    public static func id(ofSequence sequence: UInt64) -> Int64 { Int64(sequence) + 1 }

    public mutating func match(opcode: Opcode, payload: UnsafeRawBufferPointer) -> Match {
        guard opcode == .text, let message = ProtocolMessage.scan(payload) else { return .malformed }
        switch message.kind {
        case .push:
            return .push
        case .other:
            return message.id == nil ? .unsolicited : .mismatch
        case .result, .error:
            guard let id = message.id else { return .mismatch }
            guard id == expectedID else {
                expectedID = id + 1
                return .mismatch
            }
            expectedID += 1
            return .answer(id: id, ok: message.kind == .result)
        }
    }
}
