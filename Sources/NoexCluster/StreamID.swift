/// A Redis Stream entry id, `MS-SEQ`, ordered numerically (as Redis orders them).
public struct StreamID: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var ms: UInt64
    public var seq: UInt64

    public static let zero = StreamID(ms: 0, seq: 0)

    public init(ms: UInt64, seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    /// Parses `MS-SEQ` (or a bare `MS`, as Redis accepts); nil when malformed.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count <= 2, let ms = UInt64(parts[0]) else { return nil }
        var seq: UInt64 = 0
        if parts.count == 2 {
            guard let s = UInt64(parts[1]) else { return nil }
            seq = s
        }
        self.init(ms: ms, seq: seq)
    }

    public var description: String { "\(ms)-\(seq)" }

    public static func < (a: StreamID, b: StreamID) -> Bool { (a.ms, a.seq) < (b.ms, b.seq) }
}
