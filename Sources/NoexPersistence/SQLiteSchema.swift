/// The on-disk layout of the sqlite engine (docs/persistence.md, "On-disk format").
///
/// `records` keeps one row per record; its rowid order is the bucket's insertion order (an
/// update rewrites the row in place, a delete and re-insert appends), so a reload rebuilds the
/// same order. Bump `formatVersion` on any incompatible change: a server refuses a database
/// whose version is newer than its own.
enum SQLiteSchema {
    static let formatVersion: Int64 = 1

    static let create = """
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, config TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS counters (bucket TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS records (bucket TEXT NOT NULL, key TEXT NOT NULL, record TEXT NOT NULL);
        CREATE UNIQUE INDEX IF NOT EXISTS records_key ON records (bucket, key);
        CREATE TABLE IF NOT EXISTS queries (name TEXT PRIMARY KEY, config TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS rules (id TEXT PRIMARY KEY, rule TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, fact TEXT NOT NULL);
        """

    static let insertRecord = "INSERT INTO records (bucket, key, record) VALUES (?1, ?2, ?3)"
    static let updateRecord = "UPDATE records SET record = ?3 WHERE bucket = ?1 AND key = ?2"
    static let deleteRecord = "DELETE FROM records WHERE bucket = ?1 AND key = ?2"
    static let upsertCounter =
        "INSERT INTO counters (bucket, value) VALUES (?1, ?2) ON CONFLICT(bucket) DO UPDATE SET value = excluded.value"
}
