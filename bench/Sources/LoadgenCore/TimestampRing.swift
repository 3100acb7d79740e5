/// A fixed-capacity FIFO of send timestamps (nanoseconds), one per request in flight.
/// Capacity is a power of two at least the in-flight limit, so it never grows.
public struct TimestampRing {
    private var slots: [UInt64]
    private var head = 0
    public private(set) var count = 0

    public init(capacity: Int) {
        var size = 1
        while size < max(capacity, 1) { size <<= 1 }
        slots = [UInt64](repeating: 0, count: size)
    }

    public var capacity: Int { slots.count }

    /// Returns false (and stores nothing) when full: more requests in flight than planned.
    @discardableResult
    public mutating func push(_ value: UInt64) -> Bool {
        guard count < slots.count else { return false }
        slots[(head + count) & (slots.count - 1)] = value
        count += 1
        return true
    }

    public mutating func pop() -> UInt64? {
        guard count > 0 else { return nil }
        let value = slots[head]
        head = (head + 1) & (slots.count - 1)
        count -= 1
        return value
    }
}
