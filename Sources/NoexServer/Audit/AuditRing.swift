/// The in-memory trail: a fixed-capacity ring of entries with their sequence numbers, the
/// oldest overwritten when full.
struct AuditRing {
    let capacity: Int
    private var slots: [(seq: Int64, entry: AuditEntry)] = []
    /// Index of the oldest entry once the ring is full (0 before).
    private var head = 0

    init(capacity: Int) { self.capacity = Swift.max(1, capacity) }

    var count: Int { slots.count }

    /// Appends an entry; returns the sequence number of the one it pushed out, if any.
    mutating func append(_ seq: Int64, _ entry: AuditEntry) -> Int64? {
        if slots.count < capacity {
            slots.append((seq, entry))
            return nil
        }
        let evicted = slots[head].seq
        slots[head] = (seq, entry)
        head = (head + 1) % capacity
        return evicted
    }

    /// Visits the entries newest first until `body` returns false.
    func forEachNewestFirst(_ body: (AuditEntry) -> Bool) {
        let n = slots.count
        for i in 0..<n where !body(slots[(head + n - 1 - i) % n].entry) { return }
    }
}
