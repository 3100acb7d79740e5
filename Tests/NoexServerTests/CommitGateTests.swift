import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// The commit gate (flush before sleep) holds every answer of a loop iteration that wrote until
/// the write is committed; held answers count toward the connection's write limit like queued
/// ones, so a client cannot pile up unbounded answers behind a commit.
@Suite struct CommitGateTests {
    @Test func heldAnswersCountTowardTheWriteLimit() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        let server = ServerThread {
            var c = ServerConfig(store: wireStoreFixture())
            c.persistence = PersistenceOptions(path: db, fsync: .everysec, engine: .sqlite)
            c.backpressure = BackpressureConfig(maxBufferedBytes: 4096)
            return c
        }
        defer { server.stop() }
        try #require(server.startError == nil)
        let c = try WireStoreClient(server)
        let big = String(repeating: "b", count: 400)
        #expect(DurableFormatTests.insert(c, "big", big)["type"] == "result")
        // A write, then reads (~550 bytes per answer), sent in one write: read in one loop
        // iteration, so every answer waits for the write's commit.
        var requests: [JSONObject] = [["id": 100, "type": "store.insert", "bucket": "items", "data": ["sku": "w", "name": "w"]]]
        for i in 0..<20 { requests.append(["id": .int(Int64(101 + i)), "type": "store.get", "bucket": "items", "key": "big"]) }
        c.ws.sendTextsTogether(requests.map { JSON.object($0).jsonString })
        var kinds: [String] = []
        for r in requests {
            let answer = WireStoreClient.parse(c.ws.nextText())
            #expect(answer["id"] == r["id"])
            kinds.append(answer["type"] == "result" ? "result" : answer["code"]?.stringValue ?? "?")
        }
        // what fits under 4096 bytes is answered, the rest is BACKPRESSURE, in that order
        let results = kinds.prefix { $0 == "result" }.count
        #expect(results >= 5 && results <= 8, "\(kinds)")
        #expect(kinds.dropFirst(results).allSatisfy { $0 == "BACKPRESSURE" }, "\(kinds)")
        // once released, nothing is held for the connection any more
        #expect(c.data(["type": "store.get", "bucket": "items", "key": "big"])["name"] == .string(big))
        #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "w2", "name": "w"]])["type"] == "result")
    }
}
