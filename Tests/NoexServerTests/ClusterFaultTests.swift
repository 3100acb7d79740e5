import Foundation
import NoexCluster
import NoexJSON
import RedisTestSupport
import Testing
@testable import NoexServer

/// A cluster node whose durable commit fails (the disk is full) cannot keep its data equal to
/// the other nodes': the failed batch is answered PERSISTENCE_ERROR as on a single server, then
/// the node stops following the log and answers every write CLUSTER_UNAVAILABLE until restarted;
/// reads go on.
@Suite(.serialized, .enabled(if: RedisServer.binary != nil, Comment(rawValue: RedisServer.missing)))
struct ClusterFaultTests {
    @Test func aFailedCommitHaltsTheNode() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let disk = try mountedTmpfs(in: dir, "disk", options: "size=256k")
        defer { unmount(disk) }
        let db = disk + "/noex.db"
        let endpoint = redis.endpoint
        let node = ServerThread {
            var c = ServerConfig(store: wireStoreFixture())
            c.persistence = PersistenceOptions(path: db, fsync: FsyncPolicyName.always.policy)
            c.cluster = ClusterConfig(redis: endpoint, name: "fault")
            return c
        }
        defer { node.stop() }
        try #require(node.startError == nil, "\(node.startError ?? "")")
        let c = try WireStoreClient(node)
        let filler = String(repeating: "x", count: 2000)
        var acknowledged = 0
        var failure: JSON?
        for i in 0..<400 {
            let answer = c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": .string("k\(i)"), "name": .string(filler)]])
            if answer["type"] == "result" {
                acknowledged += 1
                continue
            }
            failure = answer
            break
        }
        let f = try #require(failure, "the disk never filled up")
        #expect(f["code"] == "PERSISTENCE_ERROR", "\(f.jsonString)")
        let next = c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "after", "name": "x"]])
        #expect(next["code"] == "CLUSTER_UNAVAILABLE", "\(next.jsonString)")
        #expect(next["message"]?.stringValue?.contains("it stopped following the cluster log: restart it") == true)
        #expect(c.data(["type": "store.count", "bucket": "items"]) == .int(Int64(acknowledged)))
        let health = try #require(curl(port: node.port, "/health"))
        #expect(health.status == 503 && health.body.hasPrefix(#"{"status":"halted","reason":"this node could not commit applied log entries"#), "\(health.body)")
    }
}
