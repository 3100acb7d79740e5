import Foundation
import NoexJSON
import Testing
@testable import NoexPersistence
@testable import NoexServer

/// A database written in on-disk format version 1 (records in a rowid table with a unique
/// `(bucket, key)` index, insertion order = rowid order) is upgraded to version 2 when a server
/// opens it: same reads, same order, and it takes writes; a failed upgrade leaves it as it was.
@Suite struct DurableUpgradeTests {
    /// The version-1 schema exactly as the version-1 server created it.
    private static let version1Schema = """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE buckets (name TEXT PRIMARY KEY, config TEXT NOT NULL);
        CREATE TABLE counters (bucket TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE records (bucket TEXT NOT NULL, key TEXT NOT NULL, record TEXT NOT NULL);
        CREATE UNIQUE INDEX records_key ON records (bucket, key);
        CREATE TABLE queries (name TEXT PRIMARY KEY, config TEXT NOT NULL);
        CREATE TABLE rules (id TEXT PRIMARY KEY, rule TEXT NOT NULL);
        CREATE TABLE facts (key TEXT PRIMARY KEY, fact TEXT NOT NULL);
        INSERT INTO meta (key, value) VALUES ('format_version', 1);
        """

    /// Records of the fixture's `items` bucket by rowid. The rowids are out of key order, as
    /// after an update (kept its row) and a delete + re-insert (a new row at the end).
    private static let rows: [(rowid: Int, key: String, record: String)] = [
        (9, "b", #"{"sku":"b","name":"B again","qty":0,"_version":1,"_createdAt":1700000000003,"_updatedAt":1700000000003}"#),
        (2, "c", #"{"sku":"c","name":"C","qty":4,"_version":2,"_createdAt":1700000000001,"_updatedAt":1700000000005}"#),
        (5, "a", #"{"sku":"a","name":"A","qty":0,"_version":1,"_createdAt":1700000000002,"_updatedAt":1700000000002}"#),
    ]

    private func writeVersion1(_ path: String, extra: String = "") throws {
        let db = try SQLiteDatabase(path: path)
        defer { db.close() }
        try db.exec("PRAGMA journal_mode=WAL")
        try db.exec(Self.version1Schema + extra)
        for r in Self.rows {
            try db.exec("INSERT INTO records (rowid, bucket, key, record) VALUES (\(r.rowid), 'items', '\"\(r.key)\"', '\(r.record)')")
        }
        try db.exec("INSERT INTO buckets (name, config) VALUES ('notes', '{\"key\":\"id\",\"schema\":{\"id\":{\"type\":\"string\",\"required\":true}}}')")
        try db.exec("INSERT INTO records (rowid, bucket, key, record) VALUES (3, 'notes', '\"n1\"', '{\"id\":\"n1\",\"_version\":1,\"_createdAt\":1,\"_updatedAt\":1}')")
    }

    /// The records in rowid order, as the version-1 server answered `store.all`.
    private var itemsInRowidOrder: JSON {
        .array(Self.rows.sorted { $0.rowid < $1.rowid }.map { try! JSON.parse($0.record) })
    }

    private func scalar(_ path: String, _ sql: String) throws -> Int64? {
        let db = try SQLiteDatabase(path: path)
        defer { db.close() }
        return try db.scalarInt(sql)
    }

    @Test func version1OpensAnswersTheSameAndTakesWrites() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        try writeVersion1(db)
        do {
            let server = durableServer(db)
            defer { server.stop() }
            try #require(server.startError == nil, "\(server.startError ?? "")")
            let c = try WireStoreClient(server)
            #expect(c.data(["type": "store.all", "bucket": "items"]) == itemsInRowidOrder)
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "c"]) == (try JSON.parse(Self.rows[1].record)))
            #expect(c.data(["type": "store.all", "bucket": "notes"]) == .array([try JSON.parse(#"{"id":"n1","_version":1,"_createdAt":1,"_updatedAt":1}"#)]))
            // writes after the upgrade: an update keeps its place, an insert goes last
            #expect(c.ask(["type": "store.update", "bucket": "items", "key": "a", "data": ["qty": 1]])["type"] == "result")
            #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "d", "name": "D"]])["type"] == "result")
        }
        #expect(try scalar(db, "SELECT value FROM meta WHERE key = 'format_version'") == 2)
        #expect(try scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'records_key'") == 0)
        #expect(try scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'records' AND sql LIKE '%WITHOUT ROWID%'") == 1)
        // the new rows survive a restart, in insertion order
        let server = durableServer(db)
        defer { server.stop() }
        try #require(server.startError == nil, "\(server.startError ?? "")")
        let c = try WireStoreClient(server)
        guard case .array(let all) = c.data(["type": "store.all", "bucket": "items"]) else {
            Issue.record("store.all did not answer an array")
            return
        }
        #expect(all.map { $0["sku"] } == ["c", "a", "b", "d"])
        #expect(all.count == 4 && all[1]["qty"] == 1)
        #expect(c.data(["type": "store.count", "bucket": "notes"]) == 1)
    }

    /// The upgrade is one transaction: when it fails part-way (here a leftover table named as
    /// its temporary one), the start fails by name and the version-1 database is untouched.
    @Test func aFailedUpgradeLeavesVersion1Intact() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        try writeVersion1(db, extra: "CREATE TABLE records_v2 (x);")
        do {
            let server = durableServer(db)
            defer { server.stop() }
            let error = try #require(server.startError)
            #expect(error.contains("\"\(db)\"") && error.contains("records_v2 already exists"), "\(error)")
        }
        #expect(try scalar(db, "SELECT value FROM meta WHERE key = 'format_version'") == 1)
        #expect(try scalar(db, "SELECT count(*) FROM records") == 4)
        #expect(try scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'records_key'") == 1)
        // without the obstacle the same file upgrades and answers
        let fix = try SQLiteDatabase(path: db)
        try fix.exec("DROP TABLE records_v2")
        fix.close()
        let server = durableServer(db)
        defer { server.stop() }
        try #require(server.startError == nil, "\(server.startError ?? "")")
        let c = try WireStoreClient(server)
        #expect(c.data(["type": "store.all", "bucket": "items"]) == itemsInRowidOrder)
    }
}
