import NoexJSON
import NoexStore

/// The store mutations waiting for the next group commit, flat: every event in order (as an
/// `Entry`), and where each mutation (a transaction is one) ends.
///
/// Flat rather than `[[StoreEvent]]`: an insert appends one entry and one end to arrays that
/// keep their capacity from batch to batch, where the nested form allocated an array per
/// mutation (and the store a one-element array to hand it over). Entries rather than
/// `StoreEvent`s: the commit reads their fields in place, where each look into an enum's
/// payload copied the whole event (three copies per insert, ~1.2k instructions with their
/// retains and releases; bench/README.md, issue 13, fifth round). The grouping and the events
/// themselves matter only for the undo of a failed commit (`mutations`), which is rare.
struct MutationBatch {
    /// One event, field by field.
    struct Entry {
        enum Kind { case inserted, updated, deleted }
        let kind: Kind
        let bucket: String
        let key: JSON
        /// The record inserted, an update's new record, or the record deleted.
        let record: JSONObject
        /// An update's record before it.
        let old: JSONObject?
        /// The record's rowid (StoreChanges): the row it has or gets.
        let rowid: Int64

        init(_ event: consuming StoreEvent, rowid: Int64) {
            self.rowid = rowid
            switch consume event {
            case .inserted(let b, let k, let r): (kind, bucket, key, record, old) = (.inserted, b, k, r, nil)
            case .updated(let b, let k, let o, let n): (kind, bucket, key, record, old) = (.updated, b, k, n, o)
            case .deleted(let b, let k, let r): (kind, bucket, key, record, old) = (.deleted, b, k, r, nil)
            }
        }

        var event: StoreEvent {
            switch kind {
            case .inserted: return .inserted(bucket: bucket, key: key, record: record)
            case .updated: return .updated(bucket: bucket, key: key, oldRecord: old ?? record, newRecord: record)
            case .deleted: return .deleted(bucket: bucket, key: key, record: record)
            }
        }
    }

    private(set) var entries: [Entry] = []
    /// `entries` index one past each mutation's last event.
    private(set) var ends: [Int] = []

    var isEmpty: Bool { ends.isEmpty }
    /// Mutations (not events) in the batch.
    var count: Int { ends.count }

    mutating func append(_ event: consuming StoreEvent, rowid: Int64) {
        entries.append(Entry(event, rowid: rowid))
        ends.append(entries.count)
    }

    mutating func append(_ mutation: StoreChanges) {
        guard !mutation.isEmpty else { return }
        for (e, rowid) in zip(mutation.events, mutation.rowids) { entries.append(Entry(e, rowid: rowid)) }
        ends.append(entries.count)
    }

    /// Empties the batch, keeping the arrays' storage for the next one.
    mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }

    /// The events grouped by mutation, oldest first (what `Store.revert` takes).
    var mutations: [StoreChanges] { mutations { _ in true } }

    /// The batch without the events of `bucket` (mutations left empty are dropped).
    func removing(bucket name: String) -> MutationBatch {
        var out = MutationBatch()
        for m in mutations(keeping: { $0.bucket != name }) { out.append(m) }
        return out
    }

    /// The events `keeping` accepts, grouped by mutation, oldest first.
    private func mutations(keeping: (Entry) -> Bool) -> [StoreChanges] {
        var out: [StoreChanges] = []
        out.reserveCapacity(ends.count)
        var start = 0
        for end in ends {
            var m = StoreChanges()
            for e in entries[start..<end] where keeping(e) { m.append(e.event, rowid: e.rowid) }
            out.append(m)
            start = end
        }
        return out
    }
}
