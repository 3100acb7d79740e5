/// The on-disk layout of the sqlite engine (docs/persistence.md, "On-disk format").
///
/// `records` keeps one row per record; its rowid order is the bucket's insertion order (an
/// update rewrites the row in place, a delete and re-insert appends), so a reload rebuilds the
/// same order. Bump `formatVersion` on any incompatible change: a server refuses a database
/// whose version is newer than its own, and upgrades an older one in place at open.
///
/// Version 2 dropped version 1's unique index on `(bucket, key)`: a record's row has the
/// record's rowid in the store (`StoreChanges`), so updates and deletes name it by rowid and an
/// insert writes one B-tree instead of two (bench/README.md, issue 13, fourth round). Startup
/// reads every row anyway, which is when each loaded record gets its row's rowid.
enum SQLiteSchema {
    static let formatVersion: Int64 = 2

    static let create = """
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, config TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS counters (bucket TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS records (bucket TEXT NOT NULL, key TEXT NOT NULL, record TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS queries (name TEXT PRIMARY KEY, config TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS rules (id TEXT PRIMARY KEY, rule TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, fact TEXT NOT NULL);
        """

    /// `rows` rows of one bucket in one statement: ?1 the bucket, then each row's rowid, key
    /// and record.
    static func insertRecords(_ rows: Int) -> String {
        "INSERT INTO records (rowid, bucket, key, record) VALUES "
            + (0..<rows).map { "(?\(2 + 3 * $0), ?1, ?\(3 + 3 * $0), ?\(4 + 3 * $0))" }.joined(separator: ", ")
    }
    static let updateRecord = "UPDATE records SET record = ?2 WHERE rowid = ?1"
    static let deleteRecord = "DELETE FROM records WHERE rowid = ?1"
    /// Every row, read once at start.
    static let loadRows = "SELECT rowid, bucket, key, record FROM records ORDER BY rowid"

    /// Version 1 → 2, run in the transaction that opens the database: the rows stay as they
    /// are (one per key, which version 1's unique index guaranteed).
    static let upgradeFromVersion1 = """
        DROP INDEX IF EXISTS records_key;
        UPDATE meta SET value = 2 WHERE key = 'format_version';
        """
    static let upsertCounter =
        "INSERT INTO counters (bucket, value) VALUES (?1, ?2) ON CONFLICT(bucket) DO UPDATE SET value = excluded.value"
}
