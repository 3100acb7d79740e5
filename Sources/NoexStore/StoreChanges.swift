import NoexJSON

/// The events of one mutation, each with the rowid of its record.
///
/// A rowid is the number the store gives a record when it goes into a bucket: unique in the
/// store, kept by every update of the record, never given again while the process runs (a
/// record loaded at start keeps the one it was stored with). The sqlite engine names a
/// record's row by it, so it needs no key → row map of its own (docs/persistence.md).
public struct StoreChanges: Sendable {
    public private(set) var events: [StoreEvent] = []
    /// `rowids[i]` is the rowid of the record of `events[i]`.
    public private(set) var rowids: [Int64] = []

    public init() {}

    public init(_ event: StoreEvent, rowid: Int64) {
        events = [event]
        rowids = [rowid]
    }

    public var isEmpty: Bool { events.isEmpty }
    public var count: Int { events.count }

    public mutating func append(_ event: StoreEvent, rowid: Int64) {
        events.append(event)
        rowids.append(rowid)
    }

    public mutating func append(contentsOf other: StoreChanges) {
        events += other.events
        rowids += other.rowids
    }

    public mutating func reserveCapacity(_ n: Int) {
        events.reserveCapacity(n)
        rowids.reserveCapacity(n)
    }
}
