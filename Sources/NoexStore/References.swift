import NoexJSON

/// Foreign keys (`ref`, `onDelete`; docs/store.md). Enforced by insert, update, upsert, the bulk
/// operations and delete; not by transactions, TTL purges, maxSize eviction or `clear` (as upstream).
/// A `ref` to a bucket that is not defined is not checked.
extension Store {
    /// Fields of other buckets (or this one) that reference `target`: (bucket, field, onDelete).
    func referrers(of target: String) -> [(bucket: String, field: String, onDelete: String)] {
        if let cached = referrerCache[target] { return cached }
        var out: [(String, String, String)] = []
        for name in bucketNames {
            guard let b = buckets[name] else { continue }
            for (field, def) in b.definition.fields where def.ref == target { out.append((name, field, def.onDelete)) }
        }
        referrerCache[target] = out
        return out
    }

    /// Throws when a non-null `ref` value of `record` (new or changed since `old`) has no target.
    func checkReferences(_ b: Bucket, _ record: JSONObject, old: JSONObject? = nil) throws(StoreError) {
        for (field, target) in b.plan.references {
            guard let v = record[field], !v.isNull, let tb = buckets[target] else { continue }
            if let old, JSValue.strictEquals(old[field], v) { continue }
            if !tb.table.contains(v) {
                throw .referentialIntegrity(sourceBucket: b.name, sourceField: field, targetBucket: target, targetKey: v, restrictedDelete: false)
            }
        }
    }

    /// Everything deleting `key` from `bucket` implies: cascaded deletes (root first) and
    /// referrer fields to set to null. Throws on a `restrict` referrer. Cycle-safe.
    func deletionPlan(_ bucket: String, _ key: JSON) throws(StoreError) -> (deletes: [RecordRef], nulls: [(RecordRef, String)]) {
        var deletes: [RecordRef] = []
        var nulls: [(RecordRef, String)] = []
        var seen = Set<RecordRef>()
        var queue = [RecordRef(bucket: bucket, key: key)]
        seen.insert(queue[0])
        var i = 0
        while i < queue.count {
            let cur = queue[i]
            i += 1
            deletes.append(cur)
            for (src, field, onDelete) in referrers(of: cur.bucket) {
                guard let sb = buckets[src] else { continue }
                for r in sb.select(Filter([field: cur.key])) {
                    let ref = RecordRef(bucket: src, key: r[sb.keyField]!)
                    if seen.contains(ref) { continue }
                    switch onDelete {
                    case "cascade":
                        seen.insert(ref)
                        queue.append(ref)
                    case "set_null":
                        nulls.append((ref, field))
                    default:
                        throw .referentialIntegrity(sourceBucket: src, sourceField: field, targetBucket: cur.bucket, targetKey: cur.key,
                                                    restrictedDelete: true)
                    }
                }
            }
        }
        let deleted = Set(deletes)
        return (deletes, nulls.filter { !deleted.contains($0.0) })
    }

    /// Applies a plan made by `deletionPlan`; returns the events.
    func apply(_ plan: (deletes: [RecordRef], nulls: [(RecordRef, String)])) -> StoreChanges {
        var changes = StoreChanges()
        for ref in plan.deletes {
            if let b = buckets[ref.bucket], let removed = b.rawRemove(ref.key) {
                changes.append(.deleted(bucket: ref.bucket, key: ref.key, record: removed.record), rowid: removed.rowid)
            }
        }
        let now = nowMs()
        for (ref, field) in plan.nulls {
            guard let b = buckets[ref.bucket], let old = b.get(ref.key), !(old[field]?.isNull ?? true) else { continue }
            var new = old
            new[field] = .null
            new["_version"] = JSValue.json((old["_version"]?.numberValue ?? 0) + 1)
            new["_updatedAt"] = .int(now)
            let rowid = b.rawReplace(ref.key, old: old, new: new)
            changes.append(.updated(bucket: ref.bucket, key: ref.key, oldRecord: old, newRecord: new), rowid: rowid)
        }
        return changes
    }
}
