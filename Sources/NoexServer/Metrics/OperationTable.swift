#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Request types → small integers, so that per-operation counters are array slots. The lookup
/// is an FNV-1a pass over the type's bytes and one `memcmp` against names kept in one flat
/// buffer: no dictionary, no allocation and no reference counting on the request path (about
/// half the CPU time of a `[String: Int]` lookup, measured). Types outside the table share one
/// slot (`other`), so a client cannot grow the metrics with made-up types.
final class OperationTable {
    /// Every operation the router knows, then the two shared slots.
    static let names: [String] = [
        "store.insert", "store.get", "store.update", "store.delete", "store.all", "store.where",
        "store.findOne", "store.count", "store.first", "store.last", "store.paginate", "store.clear",
        "store.sum", "store.avg", "store.min", "store.max", "store.buckets", "store.stats",
        "store.transaction", "store.subscribe", "store.unsubscribe", "store.defineBucket",
        "store.dropBucket", "store.updateBucket", "store.getBucketSchema", "store.defineQuery",
        "store.undefineQuery", "store.listQueries",
        "rules.emit", "rules.setFact", "rules.getFact", "rules.deleteFact", "rules.queryFacts",
        "rules.getAllFacts", "rules.stats", "rules.subscribe", "rules.unsubscribe", "rules.registerRule",
        "rules.unregisterRule", "rules.updateRule", "rules.enableRule", "rules.disableRule",
        "rules.getRule", "rules.getRules", "rules.validateRule",
        "auth.login", "auth.logout", "auth.whoami",
        "server.stats", "server.connections",
        "other", "invalid",
    ]
    /// The one table the request path reads (`RequestOperation(type:)`). Built once and never
    /// changed after, and read on the loop thread only, so sharing it is safe.
    nonisolated(unsafe) static let shared = OperationTable()

    /// Any request type not listed above.
    static let other = names.count - 2
    /// Messages that failed the envelope checks (no valid `type`/`id`, bad JSON).
    static let invalid = names.count - 1
    static var count: Int { names.count }

    private static let slotCount = 256
    /// Open addressing, linear probing; -1 = empty. Only the real operations are entered.
    private let slots: UnsafeMutableBufferPointer<Int16>
    /// The UTF-8 bytes of every real operation name, back to back.
    private let text: UnsafeMutableBufferPointer<UInt8>
    /// Where each name lies in `text`.
    private let spans: UnsafeMutableBufferPointer<(start: Int, count: Int)>

    init() {
        let names = Self.names.prefix(Self.other).map { Array($0.utf8) }
        text = .allocate(capacity: names.reduce(0) { $0 + $1.count })
        spans = .allocate(capacity: names.count)
        slots = .allocate(capacity: Self.slotCount)
        slots.initialize(repeating: -1)
        var at = 0
        for (i, name) in names.enumerated() {
            _ = UnsafeMutableBufferPointer(rebasing: text[at..<(at + name.count)]).initialize(from: name)
            spans.initializeElement(at: i, to: (at, name.count))
            at += name.count
            var s = name.withUnsafeBufferPointer { Self.slot($0) }
            while slots[s] >= 0 { s = (s + 1) & (Self.slotCount - 1) }
            slots[s] = Int16(i)
        }
    }

    deinit {
        slots.deallocate()
        text.deallocate()
        spans.deallocate()
    }

    /// The slot of a request type.
    func index(of type: String) -> Int {
        var type = type
        return type.withUTF8 { bytes in
            var s = Self.slot(bytes)
            while true {
                let i = Int(slots[s])
                if i < 0 { return Self.other }
                let span = spans[i]
                if span.count == bytes.count,
                    bytes.isEmpty || memcmp(text.baseAddress! + span.start, bytes.baseAddress!, span.count) == 0
                { return i }
                s = (s + 1) & (Self.slotCount - 1)
            }
        }
    }

    /// FNV-1a of the bytes, folded onto the slot table.
    private static func slot(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt32 = 2_166_136_261
        for b in bytes { h = (h ^ UInt32(b)) &* 16_777_619 }
        return Int(h) & (slotCount - 1)
    }
}

@available(*, unavailable)
extension OperationTable: Sendable {}
