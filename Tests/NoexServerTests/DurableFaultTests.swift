import Foundation
import NoexJSON
import Testing
@testable import NoexPersistence
@testable import NoexServer

/// A commit that fails at run time (here: the disk is full) fails the writes of its batch with
/// PERSISTENCE_ERROR, undoes them in memory, keeps serving reads, and loses nothing that was
/// acknowledged before.
@Suite(.serialized) struct DurableFaultTests {
    @Test func diskFull() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let disk = try mountedTmpfs(in: dir, "disk", options: "size=256k")
        defer { unmount(disk) }
        let db = disk + "/noex.db"
        var acknowledged: [String] = []
        let filler = String(repeating: "x", count: 2000)
        do {
            let server = durableServer(db, fsync: .always)
            try #require(server.startError == nil)
            let c = try WireStoreClient(server)
            let watcher = try WireStoreClient(server)
            #expect(watcher.data(["type": "store.subscribe", "query": "all-items"])["data"] == [])
            // A delta subscriber: the failed batch's delta is never sent, so its stream resyncs.
            let deltaWatcher = try WireStoreClient(server)
            var view = DeltaView(initial: deltaWatcher.data(["type": "store.subscribe", "query": "all-items", "delta": true])["data"] ?? .null)
            var failure: JSON?
            for i in 0..<400 {
                let sku = "k\(i)"
                let answer = c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": .string(sku), "name": .string(filler)]])
                if answer["type"] == "result" {
                    acknowledged.append(sku)
                    continue
                }
                failure = answer
                // the failed insert is undone: not readable, not counted
                #expect(c.data(["type": "store.get", "bucket": "items", "key": .string(sku)]) == .null)
                break
            }
            let f = try #require(failure, "the disk never filled up")
            #expect(f["code"] == "PERSISTENCE_ERROR")
            #expect(f["message"]?.stringValue?.contains("\"\(db)\"") == true && f["message"]?.stringValue?.contains("full") == true,
                    "\(f.jsonString)")
            // reads keep working and show exactly the acknowledged records
            #expect(c.data(["type": "store.count", "bucket": "items"]) == .int(Int64(acknowledged.count)))
            // a transaction fails as a whole
            let tx = c.ask(["type": "store.transaction", "operations": [
                ["op": "insert", "bucket": "items", "data": ["sku": "tx1", "name": .string(filler)]],
                ["op": "insert", "bucket": "items", "data": ["sku": "tx2", "name": .string(filler)]],
            ]])
            #expect(tx["code"] == "PERSISTENCE_ERROR")
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "tx1"]) == .null)
            let p = c.data(["type": "store.stats"])["persistence"]
            #expect((p?["commitFailures"]?.intValue ?? 0) >= 2)
            // the subscriber's latest result is the acknowledged state
            var last: JSON?
            while let push = watcher.nextPush(timeoutMs: 300) { last = push }
            #expect(last?["data"]?.arrayValue?.count == acknowledged.count)
            while let push = deltaWatcher.nextPush(timeoutMs: 300) { #expect(view.apply(push["data"] ?? .null) == nil) }
            #expect(view.resyncs >= 1)
            #expect(view.result == c.data(["type": "store.all", "bucket": "items"]))
            server.stop()
        }
        let server = durableServer(db)
        defer { server.stop() }
        try #require(server.startError == nil, "\(server.startError ?? "")")
        let c = try WireStoreClient(server)
        let skus = c.data(["type": "store.all", "bucket": "items"]).arrayValue?.compactMap { $0["sku"]?.stringValue }
        #expect(skus == acknowledged)
    }

    /// After a failed commit (its rows rolled back, its records undone in memory) the server
    /// still finds every record's row: once space is back, updates, deletes and the insert that
    /// failed go to the right rows, and the restart finds exactly them, one row per key.
    @Test func writesAfterAFailedCommitFindTheirRows() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let disk = try SmallDisk(in: dir)
        defer { disk.release() }
        let db = disk.db
        let filler = String(repeating: "x", count: 2000)
        var after: String?
        do {
            let server = durableServer(db, fsync: .always)
            try #require(server.startError == nil)
            let c = try WireStoreClient(server)
            var acknowledged: [String] = []
            var failed: String?
            for i in 0..<400 where failed == nil {
                let sku = "k\(i)"
                if DurableFormatTests.insert(c, sku, filler)["type"] == "result" { acknowledged.append(sku) } else { failed = sku }
            }
            let sku = try #require(failed, "the disk never filled up")
            try #require(acknowledged.count >= 4)
            try disk.makeRoom()
            #expect(DurableFormatTests.insert(c, sku, "retried")["type"] == "result")
            #expect(c.ask(["type": "store.update", "bucket": "items", "key": .string(acknowledged[0]), "data": ["name": "updated"]])["type"] == "result")
            #expect(c.ask(["type": "store.delete", "bucket": "items", "key": .string(acknowledged[1])])["type"] == "result")
            #expect(c.ask(["type": "store.update", "bucket": "items", "key": .string(sku), "data": ["qty": 7]])["type"] == "result")
            after = c.askRaw(DurableFormatTests.all)
            #expect(c.data(["type": "store.count", "bucket": "items"]) == .int(Int64(acknowledged.count)))
            server.stop()
        }
        let rows = try DurableFormatTests.rows(db)
        #expect(rows.duplicated == 0)
        let server = durableServer(db)
        defer { server.stop() }
        try #require(server.startError == nil, "\(server.startError ?? "")")
        let c = try WireStoreClient(server)
        #expect(c.askRaw(DurableFormatTests.all) == after)
        #expect(c.data(["type": "store.count", "bucket": "items"]) == .int(rows.total))
    }

    /// A stored record the store skipped at start keeps its row until an insert of its key
    /// replaces it; when that insert's commit fails, the row is still the one to replace: the
    /// insert that succeeds once space is back leaves one row for the key.
    @Test func aSkippedRecordsRowIsStillReplacedAfterAFailedCommit() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let disk = try SmallDisk(in: dir)
        defer { disk.release() }
        let db = disk.db
        try DurableFormatTests.makeSkippedRecord(db)
        let filler = String(repeating: "x", count: 2000)
        try withDurableServer(db, fsync: .always) { c in
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "b"]) == .null)
            var full = false
            for i in 0..<400 where !full { full = DurableFormatTests.insert(c, "k\(i)", filler)["type"] != "result" }
            try #require(full, "the disk never filled up")
            try #require(DurableFormatTests.insert(c, "b", code: "c3", name: filler)["type"] == "error")
            try disk.makeRoom()
            #expect(DurableFormatTests.insert(c, "b", code: "c3")["type"] == "result")
        }
        let d = try DurableFormatTests.open(db)
        let rowsOfB = try d.scalarInt(#"SELECT count(*) FROM records WHERE key = '"b"'"#)
        d.close()
        #expect(rowsOfB == 1)
        try withDurableServer(db) { c in
            #expect(c.data(["type": "store.get", "bucket": "items", "key": "b"])["code"] == "c3")
        }
    }

    /// Rule changes that cannot be committed are undone: the rule reads as before.
    @Test func ruleChangesOnAFullDiskAreUndone() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let disk = try mountedTmpfs(in: dir, "disk", options: "size=256k")
        defer { unmount(disk) }
        let server = WireRules.server { $0.persistence = PersistenceOptions(path: disk + "/noex.db", fsync: .always, engine: .sqlite) }
        defer { server.stop() }
        try #require(server.startError == nil)
        let c = try WireStoreClient(server)
        let rule: JSON = ["id": "r1", "name": "rule r1", "trigger": ["type": "event", "topic": "order.created"],
                          "actions": [WireRules.setFact("order:last", WireRules.ref("event.id"))]]
        #expect(c.ask(["type": "rules.registerRule", "rule": rule])["type"] == "result")
        // Fill the disk with facts until a commit fails.
        let filler = String(repeating: "x", count: 2000)
        var full = false
        for i in 0..<400 where !full {
            full = c.ask(["type": "rules.setFact", "key": .string("fill:\(i)"), "value": .string(filler)])["code"] == "PERSISTENCE_ERROR"
        }
        try #require(full, "the disk never filled up")
        // A failed commit leaves the WAL space it took for the next one, so a small change can
        // still fit once: repeat each kind of change until its own commit fails.
        let changes: [(String, (Int) -> JSONObject)] = [
            ("updateRule", { ["type": "rules.updateRule", "ruleId": "r1", "updates": ["priority": .int(Int64($0))]] }),
            ("disableRule/enableRule", { ["type": .string($0 % 2 == 0 ? "rules.disableRule" : "rules.enableRule"), "ruleId": "r1"] }),
        ]
        for (name, change) in changes {
            var failed = false
            for attempt in 1...50 where !failed {
                let before = c.askRaw(["id": 50, "type": "rules.getRule", "ruleId": "r1"])
                let answer = c.ask(change(attempt))
                failed = answer["code"] == "PERSISTENCE_ERROR"
                if failed {
                    #expect(c.askRaw(["id": 50, "type": "rules.getRule", "ruleId": "r1"]) == before, "\(name) was not undone")
                } else {
                    #expect(answer["type"] == "result", "\(name): \(answer.jsonString)")
                }
            }
            #expect(failed, "\(name) never failed on the full disk")
        }
    }
}

/// A 256 KiB tmpfs for a database, with 64 KiB of ballast: writes fill it up, and removing the
/// ballast gives room back.
struct SmallDisk {
    let path: String
    var db: String { path + "/noex.db" }
    private var ballast: String { path + "/ballast" }

    init(in dir: ScratchDirectory) throws {
        path = try mountedTmpfs(in: dir, "disk", options: "size=256k")
        try Data(count: 64 * 1024).write(to: URL(fileURLWithPath: ballast))
    }

    func makeRoom() throws { try FileManager.default.removeItem(atPath: ballast) }

    func release() { unmount(path) }
}
