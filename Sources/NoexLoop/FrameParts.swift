/// The payload of one outbound frame as up to three borrowed pieces that are sent as if they
/// were one buffer. A subscription push is its subscriber's own head (`{"type":"push",…,
/// "subscriptionId":"sub-N","data":`), the data shared by every subscriber of the evaluation,
/// and a closing brace: with the pieces apart, a fan-out writes each subscriber's frame
/// straight from them (one `sendmsg` with an iovec per piece) instead of first copying them
/// into one array per subscriber.
public struct FrameParts {
    public var head: UnsafeRawBufferPointer
    public var body: UnsafeRawBufferPointer
    public var tail: UnsafeRawBufferPointer

    public init(head: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer, tail: UnsafeRawBufferPointer) {
        self.head = head
        self.body = body
        self.tail = tail
    }

    /// One buffer as the whole payload.
    public init(_ payload: UnsafeRawBufferPointer) {
        self.init(head: payload, body: UnsafeRawBufferPointer(start: nil, count: 0),
                  tail: UnsafeRawBufferPointer(start: nil, count: 0))
    }

    /// The payload's size.
    public var count: Int {
        @inline(__always) get { head.count + body.count + tail.count }
    }

    /// Appends the payload's bytes from offset `skip` on (0: all of them).
    func append(from skip: Int = 0, to out: inout [UInt8]) {
        var skip = skip
        Self.append(head, skipping: &skip, to: &out)
        Self.append(body, skipping: &skip, to: &out)
        Self.append(tail, skipping: &skip, to: &out)
    }

    private static func append(_ part: UnsafeRawBufferPointer, skipping skip: inout Int, to out: inout [UInt8]) {
        if skip >= part.count {
            skip -= part.count
            return
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: part[skip...]))
        skip = 0
    }

    /// Copies the payload to `to` (room for `count` bytes).
    func copy(to: UnsafeMutableRawPointer) {
        var p = to
        func put(_ part: UnsafeRawBufferPointer) {
            guard let from = part.baseAddress, part.count > 0 else { return }
            p.copyMemory(from: from, byteCount: part.count)
            p += part.count
        }
        put(head)
        put(body)
        put(tail)
    }

    /// The payload in one array (for the paths that need it whole: compression).
    public func joined() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        append(to: &out)
        return out
    }
}
