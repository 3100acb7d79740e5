/// Brings an older on-disk format up to `SQLiteSchema.formatVersion` at open, inside the
/// caller's open transaction: a failure or a crash part-way rolls back to the old database,
/// untouched (docs/persistence.md, "Upgrading from format version 1").
enum SQLiteUpgrade {
    /// Runs the steps from `version` to the current one; returns what was done, for the log.
    static func run(_ db: SQLiteDatabase, from version: Int64) throws(PersistenceError) -> String {
        if version == 1 { try from1(db) }
        try db.exec("UPDATE meta SET value = \(SQLiteSchema.formatVersion) WHERE key = 'format_version'")
        return "database \"\(db.path)\": upgraded from format version \(version) to \(SQLiteSchema.formatVersion)"
    }

    /// Version 1 kept records in a rowid table with a unique `(bucket, key)` index; its rowid
    /// order was the insertion order, which becomes `seq`. Dropping the table drops its index.
    private static func from1(_ db: SQLiteDatabase) throws(PersistenceError) {
        try db.exec("""
            CREATE TABLE records_v2 \(SQLiteSchema.recordsLayout);
            INSERT INTO records_v2 (bucket, key, seq, record) SELECT bucket, key, rowid, record FROM records;
            DROP TABLE records;
            ALTER TABLE records_v2 RENAME TO records;
            """)
    }
}
