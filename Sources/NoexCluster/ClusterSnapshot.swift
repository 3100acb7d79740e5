import NoexJSON
import NoexStore

/// A full copy of a node's replicated state at a log position (docs/cluster.md#snapshots-and-trimming): what
/// a new node loads before it follows the stream from `position`. Buckets in definition order
/// with their definition (updates merged in), autoincrement counter and records in insertion
/// order; wire-defined queries in definition order. Two nodes at the same position produce the
/// same bytes, which is also how tests compare nodes.
public enum ClusterSnapshot {
    public static let format = "noex-cluster-snapshot"
    /// 2: may carry members beyond the store (`extensions`, e.g. `rules`); 1 is still loaded.
    public static let version: Int64 = 2
    /// The largest snapshot (or stored engine state) a node reads: Redis' string limit.
    public static let maxBytes = 512 * 1024 * 1024
    public static let parseLimits = JSONLimits(maxBytes: maxBytes)

    /// `extensions`: state outside the store that the server replicates (the rule engine's
    /// under `rules`), stored as top-level members and given back by the server at restore.
    public static func capture(_ store: Store, at position: ClusterPosition, extensions: JSONObject = [:]) -> JSON {
        var buckets: [JSON] = []
        for name in store.bucketNames {
            let records = store.storedRecords(bucket: name) ?? []
            buckets.append([
                "name": .string(name), "config": .object(store.getBucketSchema(name) ?? [:]),
                "counter": .int(store.autoincrementCounter(bucket: name) ?? 0),
                "records": .array(records.map { .object($0.record) }),
            ])
        }
        let queries: [JSON] = store.declarativeQueries().map { ["name": .string($0.name), "config": .object($0.config)] }
        var o: JSONObject = [
            "format": .string(format), "version": .int(version), "position": position.json,
            "buckets": .array(buckets), "queries": .array(queries),
        ]
        for (k, v) in extensions where o[k] == nil { o[k] = v }
        return .object(o)
    }

    /// Loads a snapshot into an empty store (no events); returns its position. Buckets and
    /// queries already defined (from the config file) are kept if they hold no records.
    public static func restore(_ snapshot: JSON, into store: Store) throws(ClusterCommandError) -> ClusterPosition {
        guard snapshot["format"]?.stringValue == format else { throw .init("not a \(format)") }
        guard let v = snapshot["version"]?.intValue, v <= version else {
            throw .init("snapshot version is newer than this node's \(version): upgrade this node")
        }
        guard let position = snapshot["position"].flatMap(ClusterPosition.init(json:)) else { throw .init("snapshot has no position") }
        // Buckets and queries a node defines from its config file at start are already there;
        // they must hold nothing, and are kept as they are (every node has the same config).
        for name in store.bucketNames where ((try? store.count(bucket: name)) ?? 1) > 0 {
            throw .init("a snapshot loads into an empty store only (bucket \"\(name)\" holds records)")
        }
        for b in snapshot["buckets"]?.arrayValue ?? [] {
            guard let name = b["name"]?.stringValue, let config = b["config"]?.objectValue else {
                throw .init("snapshot bucket lacks name or config")
            }
            if !store.bucketNames.contains(name) {
                do throws(StoreError) { try store.defineBucket(name, config: config) } catch {
                    throw .init("snapshot bucket \"\(name)\" cannot be defined: \(error.message)")
                }
            }
            store.setAutoincrementCounter(bucket: name, b["counter"]?.intValue ?? 0)
            let keyField = store.keyField(bucket: name)!
            var rows: [(key: JSON, record: JSONObject)] = []
            for r in b["records"]?.arrayValue ?? [] {
                guard let o = r.objectValue, let k = o[keyField] else { throw .init("snapshot record of \"\(name)\" lacks its key") }
                rows.append((k, o))
            }
            let problems = store.loadRecords(bucket: name, rows)
            if let p = problems.first { throw .init("snapshot does not load: \(p)") }
        }
        for q in snapshot["queries"]?.arrayValue ?? [] {
            guard let name = q["name"]?.stringValue, let config = q["config"]?.objectValue else { throw .init("snapshot query lacks name or config") }
            if store.hasQuery(name) { continue }
            do throws(StoreError) { try store.defineQuery(name, config: config) } catch {
                throw .init("snapshot query \"\(name)\" cannot be defined: \(error.message)")
            }
        }
        return position
    }
}
