import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// `--persistence sqlite`: every kind of write over real sockets, stop, start on the same
/// database, and every read answers the same bytes as before the stop.
@Suite struct DurableRestartTests {
    /// Reads whose exact answers must survive a restart (fixed ids, so the bytes compare).
    private let reads: [JSONObject] = [
        ["id": 901, "type": "store.all", "bucket": "items"],
        ["id": 902, "type": "store.all", "bucket": "users"],
        ["id": 903, "type": "store.all", "bucket": "posts"],
        ["id": 904, "type": "store.buckets"],
        ["id": 905, "type": "store.getBucketSchema", "name": "posts"],
        ["id": 906, "type": "store.listQueries"],
        ["id": 907, "type": "store.paginate", "bucket": "items", "limit": 2],
        ["id": 908, "type": "store.count", "bucket": "items"],
        ["id": 909, "type": "store.get", "bucket": "items", "key": "b"],
        ["id": 910, "type": "store.all", "bucket": "orders"],
        ["id": 911, "type": "store.getBucketSchema", "name": "gone"],
        ["id": 912, "type": "store.all", "bucket": "seq"],
        ["id": 913, "type": "store.all", "bucket": "logs"],
    ]

    private func snapshot(_ c: WireStoreClient) -> [String] { reads.map { c.askRaw($0) ?? "<no answer>" } }

    @Test(arguments: FsyncPolicyName.allCases)
    func everyWriteSurvivesARestart(_ fsync: FsyncPolicyName) throws {
        try writeStopStartCompare(fsync, engine: .sqlite)
    }

    /// The same with `--persistence file`: the graceful stop writes the last snapshot.
    @Test(arguments: FsyncPolicyName.allCases)
    func everyWriteSurvivesARestartOnTheFileEngine(_ fsync: FsyncPolicyName) throws {
        try writeStopStartCompare(fsync, engine: .file)
    }

    private func writeStopStartCompare(_ fsync: FsyncPolicyName, engine: PersistenceOptions.Engine) throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file(engine == .sqlite ? "noex.db" : "data")
        var before: [String] = []
        do {
            let server = durableServer(db, fsync: fsync, engine: engine)
            #expect(server.startError == nil)
            let c = try WireStoreClient(server)
            // records of a config-file bucket: insert, update, delete, clear of another bucket
            for (sku, name) in [("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")] {
                #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": .string(sku), "name": .string(name)]])["type"] == "result")
            }
            #expect(c.ask(["type": "store.update", "bucket": "items", "key": "b", "data": ["qty": 7]])["type"] == "result")
            #expect(c.ask(["type": "store.delete", "bucket": "items", "key": "a"])["type"] == "result")
            // delete and re-insert moves a key to the end of insertion order
            #expect(c.ask(["type": "store.delete", "bucket": "items", "key": "c"])["type"] == "result")
            #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "c", "name": "C2"]])["type"] == "result")
            // generated keys and the demo buckets
            #expect(c.ask(["type": "store.insert", "bucket": "users", "data": ["name": "Ann", "email": "ann@example.com"]])["type"] == "result")
            #expect(c.ask(["type": "store.insert", "bucket": "logs", "data": ["message": "x"]])["type"] != nil)
            // a transaction: all of it or nothing
            let tx = c.ask(["type": "store.transaction", "operations": [
                ["op": "insert", "bucket": "items", "data": ["sku": "t1", "name": "T1"]],
                ["op": "update", "bucket": "items", "key": "d", "data": ["qty": 3]],
                ["op": "delete", "bucket": "items", "key": "b"],
            ]])
            #expect(tx["type"] == "result")
            let failedTx = c.ask(["type": "store.transaction", "operations": [
                ["op": "insert", "bucket": "items", "data": ["sku": "t2", "name": "T2"]],
                ["op": "insert", "bucket": "items", "data": ["sku": "t1", "name": "dup"]],
            ]])
            #expect(failedTx["type"] == "error")
            #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "b", "name": "B again"]])["type"] == "result")
            // schema over the wire: define, update, queries, drop
            #expect(c.ask(["type": "store.defineBucket", "name": "posts", "config": [
                "key": "id", "schema": ["id": ["type": "string", "required": true], "title": ["type": "string"]], "indexes": ["title"],
            ]])["type"] == "result")
            #expect(c.ask(["type": "store.insert", "bucket": "posts", "data": ["id": "p1", "title": "Hello"]])["type"] == "result")
            #expect(c.ask(["type": "store.updateBucket", "name": "posts", "updates": ["addFields": ["likes": ["type": "number", "default": 0]]]])["type"] == "result")
            #expect(c.ask(["type": "store.insert", "bucket": "posts", "data": ["id": "p2", "title": "Two"]])["type"] == "result")
            #expect(c.ask(["type": "store.defineBucket", "name": "seq", "config": [
                "key": "n", "schema": ["n": ["type": "number", "generated": "autoincrement"], "v": ["type": "string"]],
            ]])["type"] == "result")
            for v in ["x", "y", "z"] {
                #expect(c.ask(["type": "store.insert", "bucket": "seq", "data": ["v": .string(v)]])["type"] == "result")
            }
            #expect(c.ask(["type": "store.delete", "bucket": "seq", "key": 3])["type"] == "result")
            #expect(c.ask(["type": "store.defineBucket", "name": "gone", "config": ["key": "id", "schema": ["id": ["type": "string"]]]])["type"] == "result")
            #expect(c.ask(["type": "store.insert", "bucket": "gone", "data": ["id": "g"]])["type"] == "result")
            #expect(c.ask(["type": "store.dropBucket", "name": "gone"])["type"] == "result")
            #expect(c.ask(["type": "store.defineQuery", "name": "posts-by-title", "config": ["bucket": "posts", "filter": ["title": "Hello"]]])["type"] == "result")
            #expect(c.ask(["type": "store.defineQuery", "name": "temp", "config": ["bucket": "posts"]])["type"] == "result")
            #expect(c.ask(["type": "store.undefineQuery", "name": "temp"])["type"] == "result")
            #expect(c.ask(["type": "store.clear", "bucket": "orders"])["type"] == "result")
            before = snapshot(c)
            server.stop()
        }
        let server = durableServer(db, fsync: fsync, engine: engine)
        defer { server.stop() }
        #expect(server.startError == nil)
        let c = try WireStoreClient(server)
        let after = snapshot(c)
        for (i, (b, a)) in zip(before, after).enumerated() {
            #expect(a == b, "read \(reads[i]) differs after restart")
        }
        // the items order is the insertion order: d, c (re-inserted), t1, b (re-inserted)
        #expect(c.data(["type": "store.all", "bucket": "items"]).arrayValue?.compactMap { $0["sku"]?.stringValue } == ["d", "c", "t1", "b"])
        // the autoincrement counter survives, even past a deleted last record
        #expect(c.data(["type": "store.insert", "bucket": "seq", "data": ["v": "w"]])["n"] == 4)
        // the dropped bucket's data is gone: redefining it starts empty
        #expect(c.ask(["type": "store.defineBucket", "name": "gone", "config": ["key": "id", "schema": ["id": ["type": "string"]]]])["type"] == "result")
        #expect(c.data(["type": "store.count", "bucket": "gone"]) == 0)
        // the stats say where the data lives
        let p = c.data(["type": "store.stats"])["persistence"]
        #expect(p?.objectValue?.keys.first == "enabled")
        #expect(p?["enabled"] == true && p?["engine"] == .string(engine.rawValue) && p?["path"] == .string(db) && p?["fsync"] == .string(fsync.rawValue))
        #expect(p?["pendingWrites"] == 0 && p?["commitFailures"] == 0)
    }

    @Test func subscribersSeeOnlyCommittedWritesInOrder() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let server = durableServer(dir.file("noex.db"), fsync: .always)
        defer { server.stop() }
        let writer = try WireStoreClient(server)
        let watcher = try WireStoreClient(server)
        let sub = watcher.data(["type": "store.subscribe", "query": "all-items"])
        #expect(sub["data"] == [])
        // the write's answer comes first on its own connection, the push follows on the other
        #expect(writer.askRaw(["id": 5, "type": "store.insert", "bucket": "items", "data": ["sku": "k", "name": "K"]])?.hasPrefix(#"{"id":5,"type":"result""#) == true)
        let push = try #require(watcher.nextPush())
        #expect(push["data"]?.arrayValue?.count == 1)
        let stats = watcher.data(["type": "store.stats"])["persistence"]
        #expect((stats?["commits"]?.intValue ?? 0) >= 1)
    }
}
