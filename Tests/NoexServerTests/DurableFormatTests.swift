import Foundation
import NoexJSON
import Testing
@testable import NoexPersistence
@testable import NoexServer

/// The sqlite engine's on-disk format version 2 (no `(bucket, key)` index; rows found by the
/// rowid of their record in the store): a version-1 database is upgraded in place and keeps every
/// record, a newer version is refused, and the table never holds two rows for one key.
@Suite struct DurableFormatTests {
    static let all: JSONObject = ["id": 1, "type": "store.all", "bucket": "items"]

    /// The database file opened directly, after a stopped server let go of its lock.
    static func open(_ db: String) throws -> SQLiteDatabase {
        let d = try SQLiteDatabase(path: db)
        d.busyTimeout(ms: 10_000)
        // As the server opens it: without a shared-memory file (a full disk has no room for one).
        try d.exec("PRAGMA locking_mode=EXCLUSIVE")
        return d
    }

    /// Rows per key in `items` that occur more than once, and the row count (the server must
    /// be stopped: it holds the database's lock).
    static func rows(_ db: String) throws -> (total: Int64, duplicated: Int64) {
        let d = try open(db)
        defer { d.close() }
        let total = try d.scalarInt("SELECT count(*) FROM records WHERE bucket = 'items'") ?? -1
        let duplicated = try d.scalarInt(
            "SELECT count(*) FROM (SELECT key FROM records WHERE bucket = 'items' GROUP BY key HAVING count(*) > 1)") ?? -1
        return (total, duplicated)
    }

    static func insert(_ c: WireStoreClient, _ sku: String, _ name: String) -> JSON {
        c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": .string(sku), "name": .string(name)]])
    }

    /// A database in version 1's format (made by this server, then given version 1's unique
    /// index and version row: the only differences) opens as version 2, with every record in
    /// its order, and takes updates, deletes and inserts that a restart finds.
    @Test func version1DatabaseIsUpgradedInPlace() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        let before = try withDurableServer(db) { c in
            for sku in ["b", "a", "d", "c"] { #expect(Self.insert(c, sku, "n-\(sku)")["type"] == "result") }
            return c.askRaw(Self.all)
        }
        do {
            let d = try Self.open(db)
            try d.exec("CREATE UNIQUE INDEX records_key ON records (bucket, key); UPDATE meta SET value = 1 WHERE key = 'format_version'")
            d.close()
        }
        let after = try withDurableServer(db) { c in
            #expect(c.askRaw(Self.all) == before)
            #expect(c.ask(["type": "store.update", "bucket": "items", "key": "a", "data": ["qty": 5]])["type"] == "result")
            #expect(c.ask(["type": "store.delete", "bucket": "items", "key": "d"])["type"] == "result")
            #expect(Self.insert(c, "e", "n-e")["type"] == "result")
            #expect(Self.insert(c, "d", "again")["type"] == "result")
            return c.askRaw(Self.all)
        }
        let d = try Self.open(db)
        #expect(try d.scalarInt("SELECT value FROM meta WHERE key = 'format_version'") == 2)
        #expect(try d.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'records_key'") == 0)
        d.close()
        let rows = try Self.rows(db)
        #expect(rows.total == 5 && rows.duplicated == 0)
        try withDurableServer(db) { c in
            #expect(c.askRaw(Self.all) == after)
            let skus = c.data(Self.all).arrayValue?.compactMap { $0["sku"]?.stringValue }
            #expect(skus == ["b", "a", "c", "e", "d"])
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "a"])["qty"] == 5)
        }
    }

    @Test func newerFormatVersionIsRefused() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        try withDurableServer(db) { _ in }
        // what a future version would write: the format row says 3
        try Self.open(db).exec("UPDATE meta SET value = 3 WHERE key = 'format_version'")
        let server = durableServer(db)
        defer { server.stop() }
        #expect(server.startError == "database \"\(db)\" has format version 3, newer than this server's 2: use a newer noex-server")
        // nothing was changed by the refused open
        let d = try Self.open(db)
        #expect(try d.scalarInt("SELECT value FROM meta WHERE key = 'format_version'") == 3)
    }

    /// Delete, insert, delete, insert again and update one key in one batch: one row, the
    /// last state.
    @Test func oneKeyWrittenSeveralTimesInOneBatch() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        let after = try withDurableServer(db) { c in
            #expect(Self.insert(c, "x", "first")["type"] == "result")
            // Sent in one write: read in one loop iteration, committed as one batch.
            let requests: [JSONObject] = [
                ["id": 10, "type": "store.delete", "bucket": "items", "key": "x"],
                ["id": 11, "type": "store.insert", "bucket": "items", "data": ["sku": "x", "name": "second"]],
                ["id": 12, "type": "store.delete", "bucket": "items", "key": "x"],
                ["id": 13, "type": "store.insert", "bucket": "items", "data": ["sku": "x", "name": "third"]],
                ["id": 14, "type": "store.update", "bucket": "items", "key": "x", "data": ["qty": 3]],
                ["id": 15, "type": "store.insert", "bucket": "items", "data": ["sku": "y", "name": "other"]],
            ]
            Self.batch(c, requests)
            return c.askRaw(Self.all)
        }
        let rows = try Self.rows(db)
        #expect(rows.total == 2 && rows.duplicated == 0)
        try withDurableServer(db) { c in
            #expect(c.askRaw(Self.all) == after)
            let x = c.data(["type": "store.get", "bucket": "items", "key": "x"])
            #expect(x["name"] == "third" && x["qty"] == 3)
        }
    }

    static func insert(_ c: WireStoreClient, _ sku: String, code: String, name: String = "n") -> JSON {
        c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": .string(sku), "name": .string(name), "code": .string(code)]])
    }

    /// Writes records "a" and "b" into `db`, then edits "b" by hand so that its unique `code`
    /// clashes with "a"'s: the store skips "b" at every later start.
    static func makeSkippedRecord(_ db: String) throws {
        try withDurableServer(db) { c in
            #expect(insert(c, "a", code: "c1")["type"] == "result")
            #expect(insert(c, "b", code: "c2")["type"] == "result")
        }
        let d = try open(db)
        defer { d.close() }
        try d.exec(#"UPDATE records SET record = replace(record, '"c2"', '"c1"') WHERE key = '"b"'"#)
    }

    /// A stored record the store skips at start (edited by hand to clash with another's unique
    /// `code`) keeps its row; an insert of its key replaces that row, so the key never has two
    /// and the old record never comes back, also once the clash is gone.
    @Test func aSkippedRecordsRowIsReplacedByAnInsertOfItsKey() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        try Self.makeSkippedRecord(db)
        try withDurableServer(db) { c in
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "b"]) == .null)
            #expect(Self.insert(c, "b", code: "c3")["type"] == "result")
        }
        #expect(try Self.rows(db) == (2, 0))
        try withDurableServer(db) { c in
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "b"])["code"] == "c3")
            #expect(c.ask(["type": "store.delete", "bucket": "items", "key": "a"])["type"] == "result")
        }
        try withDurableServer(db) { c in
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "b"])["code"] == "c3")
            #expect(c.data(["type": "store.count", "bucket": "items"]) == 1)
        }
    }

    /// Rows go in with their records' rowids, by SQLite's own choice (largest + 1) when that is
    /// the record's: inserts between which a memory-only bucket took rowids, a failed insert,
    /// deletes of the table's last row and updates all land on their own rows, and a restart
    /// (twice) finds exactly them.
    @Test func rowidsAcrossGapsAndDeletedLastRows() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        func scratch(_ id: String, _ requestID: Int64) -> JSONObject {
            ["id": .int(requestID), "type": "store.insert", "bucket": "scratch", "data": ["id": .string(id)]]
        }
        func insert(_ sku: String, _ requestID: Int64) -> JSONObject { Self.inserts([sku], name: sku, firstID: requestID)[0] }
        func delete(_ sku: String, _ requestID: Int64) -> JSONObject {
            ["id": .int(requestID), "type": "store.delete", "bucket": "items", "key": .string(sku)]
        }
        let kept = ["a1", "a2", "a3", "a4", "a6", "a7"]
        try withDurableServer(db) { c in
            #expect(c.ask(["type": "store.defineBucket", "name": "scratch", "config": [
                "key": "id", "persistent": false, "schema": ["id": ["type": "string", "required": true]],
            ]])["type"] == "result")
            Self.batch(c, [insert("a1", 1), insert("a2", 2), scratch("s1", 3), insert("a3", 4), scratch("s2", 5), insert("a4", 6), insert("a5", 7)])
            #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "a3", "name": "again"]])["type"] == "error")
            Self.batch(c, [delete("a5", 10), insert("a6", 11), insert("a7", 12), scratch("s3", 13), insert("a8", 14)])
            Self.batch(c, kept.enumerated().map { ["id": .int(Int64(20 + $0.offset)), "type": "store.update", "bucket": "items",
                                                   "key": .string($0.element), "data": ["name": .string("u-\($0.element)")]] })
            Self.batch(c, [delete("a8", 30)])
        }
        #expect(try Self.rows(db) == (6, 0))
        try withDurableServer(db) { c in
            for key in kept { #expect(c.data(["type": "store.get", "bucket": "items", "key": .string(key)])["name"]?.stringValue == "u-\(key)") }
            #expect(c.data(["type": "store.count", "bucket": "items"]) == 6)
            Self.batch(c, [insert("a9", 40), delete("a9", 41), insert("a10", 42)])
            Self.batch(c, [["id": 43, "type": "store.update", "bucket": "items", "key": "a10", "data": ["name": "u-a10"]]])
        }
        #expect(try Self.rows(db) == (7, 0))
        try withDurableServer(db) { c in
            for key in kept + ["a10"] { #expect(c.data(["type": "store.get", "bucket": "items", "key": .string(key)])["name"]?.stringValue == "u-\(key)") }
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "a9"]) == .null)
        }
    }

    /// A record the store held before the database loaded (an embedder's, never written) gets
    /// a rowid above every stored row's: its update and delete touch no stored record, and the
    /// update writes it as new.
    @Test func recordsHeldBeforeTheLoadNameNoStoredRow() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        try withDurableServer(db) { c in
            #expect(Self.insert(c, "a", "stored a")["type"] == "result")
            #expect(Self.insert(c, "b", "stored b")["type"] == "result")
        }
        let server = durableServer(db) {
            let store = wireStoreFixture()
            _ = try! store.insert(bucket: "items", record: ["sku": "early", "name": "held before the load"])
            _ = try! store.insert(bucket: "items", record: ["sku": "early2", "name": "held before the load"])
            return store
        }
        do {
            defer { server.stop() }
            try #require(server.startError == nil, "\(server.startError ?? "")")
            let c = try WireStoreClient(server)
            #expect(c.ask(["type": "store.update", "bucket": "items", "key": "early", "data": ["name": "updated"]])["type"] == "result")
            #expect(c.ask(["type": "store.delete", "bucket": "items", "key": "early2"])["type"] == "result")
            #expect(Self.insert(c, "c", "stored c")["type"] == "result")
        }
        #expect(try Self.rows(db) == (4, 0))
        try withDurableServer(db) { c in
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "a"])["name"] == "stored a")
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "b"])["name"] == "stored b")
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "c"])["name"] == "stored c")
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "early"])["name"] == "updated")
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "early2"]) == .null)
        }
    }

    /// A server started again in the same process on the same store, which still holds every
    /// record: each record takes its stored row again, so writes go to those rows and no stored
    /// record is lost, also one that is not written again.
    @Test func aServerStartedAgainOnTheSameStoreKeepsItsRows() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        nonisolated(unsafe) let store = wireStoreFixture()
        for round in 0..<2 {
            let s = durableServer(db) { store }
            defer { s.stop() }
            try #require(s.startError == nil, "\(s.startError ?? "")")
            let c = try WireStoreClient(s)
            if round == 0 {
                for sku in ["a", "b", "d"] { #expect(Self.insert(c, sku, "stored \(sku)")["type"] == "result") }
            } else {
                #expect(c.ask(["type": "store.update", "bucket": "items", "key": "a", "data": ["name": "updated"]])["type"] == "result")
                #expect(c.ask(["type": "store.delete", "bucket": "items", "key": "b"])["type"] == "result")
                #expect(Self.insert(c, "c", "stored c")["type"] == "result")
            }
        }
        #expect(try Self.rows(db) == (3, 0))
        try withDurableServer(db) { c in
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "a"])["name"] == "updated")
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "b"]) == .null)
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "c"])["name"] == "stored c")
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "d"])["name"] == "stored d")
        }
    }

    /// Two rows for one key (never written by the server; a database edited by hand): the
    /// first is loaded, the later one is removed at start, so deleting the key is final.
    @Test func twoRowsForOneKeyAtStart() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        try withDurableServer(db) { c in
            #expect(Self.insert(c, "a", "first")["type"] == "result")
            #expect(Self.insert(c, "b", "other")["type"] == "result")
        }
        do {
            let d = try Self.open(db)
            try d.exec(#"INSERT INTO records (bucket, key, record) SELECT bucket, key, replace(record, '"first"', '"later"') FROM records WHERE key = '"a"'"#)
            d.close()
        }
        #expect(try Self.rows(db) == (3, 1))
        try withDurableServer(db) { c in
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "a"])["name"] == "first")
            #expect(c.ask(["type": "store.delete", "bucket": "items", "key": "a"])["type"] == "result")
        }
        #expect(try Self.rows(db) == (1, 0))
        try withDurableServer(db) { c in
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "a"]) == .null)
            #expect(c.data(["type": "store.count", "bucket": "items"]) == 1)
        }
    }


    /// Sends requests in one write (read in one loop iteration: one batch) and expects each
    /// to succeed.
    static func batch(_ c: WireStoreClient, _ requests: [JSONObject]) {
        c.ws.sendTextsTogether(requests.map { JSON.object($0).jsonString })
        for r in requests {
            let answer = WireStoreClient.parse(c.ws.nextText())
            #expect(answer["id"] == r["id"] && answer["type"] == "result", "\(answer.jsonString)")
        }
    }

    static func inserts(_ skus: [String], name: String, firstID: Int64) -> [JSONObject] {
        skus.enumerated().map { ["id": .int(firstID + Int64($0.offset)), "type": "store.insert", "bucket": "items",
                                 "data": ["sku": .string($0.element), "name": .string(name)]] }
    }

    /// Inserts of one batch go out up to 64 in one statement, each row under its record's rowid: 20
    /// inserts, an update and a delete, then 140 inserts (two full statements and a part),
    /// then updates of every key: all land on their own rows in order.
    @Test func manyInsertsInOneBatch() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        let keys = (0..<20).map { "a\($0)" }.filter { $0 != "a17" } + (0..<140).map { "b\($0)" }
        let after = try withDurableServer(db) { c in
            var requests = Self.inserts((0..<20).map { "a\($0)" }, name: "first", firstID: 100)
            requests.append(["id": 200, "type": "store.update", "bucket": "items", "key": "a3", "data": ["qty": 3]])
            requests.append(["id": 201, "type": "store.delete", "bucket": "items", "key": "a17"])
            requests += Self.inserts((0..<140).map { "b\($0)" }, name: "first", firstID: 300)
            Self.batch(c, requests)
            Self.batch(c, keys.enumerated().map { ["id": .int(Int64(500 + $0.offset)), "type": "store.update", "bucket": "items",
                                                  "key": .string($0.element), "data": ["name": .string("v-\($0.element)")]] })
            return c.askRaw(Self.all)
        }
        #expect(try Self.rows(db) == (Int64(keys.count), 0))
        try withDurableServer(db) { c in
            #expect(c.askRaw(Self.all) == after)
            let records = c.data(Self.all).arrayValue ?? []
            #expect(records.map { $0["sku"]?.stringValue ?? "" } == keys)
            #expect(records.allSatisfy { $0["name"]?.stringValue == "v-" + ($0["sku"]?.stringValue ?? "") })
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "a3"])["qty"] == 3)
        }
    }

    /// Rowids near the largest (a database edited by hand) are renumbered at start, so the
    /// store's next rowids never run out: inserts, updates and deletes after it find their rows.
    @Test func insertsNearTheLargestRowid() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        try withDurableServer(db) { c in
            #expect(Self.insert(c, "top", "top")["type"] == "result")
        }
        do {
            let d = try Self.open(db)
            try d.exec("UPDATE records SET rowid = 9223372036854775800")
            d.close()
        }
        let keys = (0..<30).map { "k\($0)" }
        try withDurableServer(db) { c in
            Self.batch(c, Self.inserts(keys, name: "first", firstID: 100))
            Self.batch(c, keys.enumerated().map { ["id": .int(Int64(200 + $0.offset)), "type": "store.update", "bucket": "items",
                                                  "key": .string($0.element), "data": ["name": .string("v-\($0.element)")]] })
            #expect(c.ask(["type": "store.delete", "bucket": "items", "key": "k5"])["type"] == "result")
        }
        #expect(try Self.rows(db) == (30, 0))
        try withDurableServer(db) { c in
            for key in keys where key != "k5" {
                #expect(c.data(["type": "store.get", "bucket": "items", "key": .string(key)])["name"]?.stringValue == "v-\(key)")
            }
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "k5"]) == .null)
        }
    }
}
