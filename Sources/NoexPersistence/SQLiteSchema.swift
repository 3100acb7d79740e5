/// The on-disk layout of the sqlite engine (docs/persistence.md, "On-disk format").
///
/// `records` keeps one row per record in a `WITHOUT ROWID` table keyed by `(bucket, key)`:
/// a write touches one B-tree (version 1 had a rowid table plus a `(bucket, key)` index, two
/// B-trees per write). `seq` keeps the bucket's insertion order: an insert takes the next
/// number, an update rewrites the row and keeps it, a delete and re-insert takes a new one,
/// so a reload sorted by `seq` rebuilds the same order. Bump `formatVersion` on any
/// incompatible change and add the step from the old layout to `SQLiteUpgrade`: a server
/// refuses a database whose version is newer than its own.
enum SQLiteSchema {
    static let formatVersion: Int64 = 2

    /// The records table's columns and key (also the target of the version-1 upgrade).
    static let recordsLayout = """
        (bucket TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL,
            PRIMARY KEY (bucket, key)) WITHOUT ROWID
        """

    static let create = """
        CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, config TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS counters (bucket TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS records \(recordsLayout);
        CREATE TABLE IF NOT EXISTS queries (name TEXT PRIMARY KEY, config TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS rules (id TEXT PRIMARY KEY, rule TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, fact TEXT NOT NULL);
        """
    static let createMeta = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"

    static let insertRecord = "INSERT INTO records (bucket, key, record, seq) VALUES (?1, ?2, ?3, ?4)"
    static let updateRecord = "UPDATE records SET record = ?3 WHERE bucket = ?1 AND key = ?2"
    static let deleteRecord = "DELETE FROM records WHERE bucket = ?1 AND key = ?2"
    static let upsertCounter =
        "INSERT INTO counters (bucket, value) VALUES (?1, ?2) ON CONFLICT(bucket) DO UPDATE SET value = excluded.value"
    /// The next insertion sequence number (when a commit comes before a load, which counts it).
    static let nextSeq = "SELECT coalesce(max(seq), 0) + 1 FROM records"
}
