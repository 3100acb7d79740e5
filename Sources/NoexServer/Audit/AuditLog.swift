import NoexJSON
import NoexStore

/// The audit log (docs/audit.md): a ring of the newest `maxEntries` entries, and with durable
/// storage also the system bucket `_audit`, written through the store so that the storage
/// engine commits each entry in the same batch as the request it records; at start the ring is
/// rebuilt from that bucket. Loop-confined.
final class AuditLog {
    let tiers: Set<OperationTier>
    let onEntry: ((AuditEntry) -> Void)?
    private var ring: AuditRing
    private var nextSeq: Int64 = 1
    /// The store holding `_audit`; nil in memory mode, where the ring alone is kept.
    private let store: Store?
    /// Entries the store refused; they stay in the ring.
    private(set) var storeFailures = 0

    /// The `_audit` bucket: records keyed by their sequence number.
    static let bucketConfig: JSONObject = ["key": "seq", "schema": ["seq": ["type": "number", "required": true]]]

    /// `store` non-nil = durable: defines `_audit` there unless it exists (call before the
    /// storage engine loads, so the engine loads its records). A host's own `_audit` bucket of
    /// another shape is left alone, with a warning, and the trail stays in memory.
    init(config: AuditConfig, store: Store?) {
        tiers = config.tiers
        onEntry = config.onEntry
        ring = AuditRing(capacity: config.capacity)
        if let store, !store.hasBucket(SystemBuckets.audit) {
            try? store.defineBucket(SystemBuckets.audit, config: Self.bucketConfig)
        }
        if let store, store.keyField(bucket: SystemBuckets.audit) != "seq" {
            printToStandardError("[noex-server] Warning: the store already has a bucket \"_audit\" that is not the audit log's (key \"seq\"); audit entries are kept in memory only. Rename that bucket to keep the trail across restarts.")
            self.store = nil
        } else {
            self.store = store
        }
    }

    var count: Int { ring.count }

    /// Whether requests of this type are recorded: only tiered types, of a configured tier.
    func records(_ type: String) -> Bool {
        guard let tier = OperationTier.of(type) else { return false }
        return tiers.contains(tier)
    }

    func append(_ entry: AuditEntry) {
        let seq = nextSeq
        nextSeq += 1
        let evicted = ring.append(seq, entry)
        if let store {
            var record = entry.fields
            record["seq"] = .int(seq)
            do throws(StoreError) {
                try store.insert(bucket: SystemBuckets.audit, record: record)
            } catch {
                storeFailures += 1
            }
            if let evicted { _ = try? store.delete(bucket: SystemBuckets.audit, key: .int(evicted)) }
        }
        onEntry?(entry)
    }

    /// After the storage engine loaded `_audit`: the newest `maxEntries` of its records go into
    /// the ring in sequence order; older ones (a lowered `maxEntries`) are deleted from the bucket.
    func restore() {
        guard let store, let records = try? store.all(bucket: SystemBuckets.audit) else { return }
        var stored: [(seq: Int64, entry: AuditEntry)] = []
        var highest: Int64 = 0
        for r in records {
            guard let seq = r["seq"]?.intValue else { continue }
            highest = Swift.max(highest, seq)
            if let e = AuditEntry(stored: r) { stored.append((seq, e)) }
        }
        stored.sort { $0.seq < $1.seq }
        let excess = stored.count - ring.capacity
        if excess > 0 {
            for old in stored.prefix(excess) { _ = try? store.delete(bucket: SystemBuckets.audit, key: .int(old.seq)) }
            stored.removeFirst(excess)
        }
        for s in stored { _ = ring.append(s.seq, s.entry) }
        nextSeq = Swift.max(nextSeq, highest + 1)
    }

    /// Matching entries newest first, at most `limit` of them and at most `maxBytes` of JSON
    /// together (so an answer never outgrows the connection's write limit; docs/audit.md).
    func query(_ q: AuditQuery, maxBytes: Int) -> [JSON] {
        var out: [JSON] = []
        let limit = q.limit ?? Int.max
        var bytes = 0
        ring.forEachNewestFirst { e in
            guard q.matches(e) else { return true }
            let json = e.json
            bytes += json.serializedBytes.count + 1
            guard bytes <= maxBytes else { return false }
            out.append(json)
            return out.count < limit
        }
        return out
    }
}
