import NoexJSON
import NoexStore

/// The replication position of a cluster node (docs/cluster.md#restart-the-position-is-committed-with-the-data): the id of the last
/// stream entry applied and the cluster time after it. On the `sqlite` engine it is a row of
/// `meta` written in the same SQLite transaction as the data those entries produced, so a
/// restart resumes exactly after the last entry whose effects are on disk.
extension SQLiteEngine {
    static let clusterPositionKey = "cluster_position"

    static func saveMeta(_ key: String, _ value: String) -> (SQLiteDatabase) throws(PersistenceError) -> Void {
        { (db: SQLiteDatabase) throws(PersistenceError) in
            let s = try db.statement(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            s.bind(1, key); s.bind(2, value)
            try s.run()
        }
    }

    func loadMeta(_ key: String) throws(PersistenceError) -> String? {
        let s = try db.statement("SELECT value FROM meta WHERE key = ?1")
        s.bind(1, key)
        guard try s.step() else { return nil }
        return s.text(0)
    }
}

extension DurableStore {
    /// The position stored by the last commit (nil: this database never followed a cluster).
    public func storedClusterPosition() throws(PersistenceError) -> String? {
        try engine.loadMeta(SQLiteEngine.clusterPositionKey)
    }

    /// A `meta` row written through `clusterMeta` (nil when absent).
    public func storedMeta(_ key: String) throws(PersistenceError) -> String? {
        try engine.loadMeta(key)
    }
}
