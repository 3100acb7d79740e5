import Foundation
import NoexJSON
import RedisTestSupport
import Testing
@testable import NoexServer

/// Three `noex-server` processes of the built binary joined to one cluster over a real
/// `redis-server` (docs/cluster.md), with real WebSocket clients: pushes across nodes, racing
/// `expectedVersion` updates, a node killed with SIGKILL under writes, and Redis going away.
@Suite(.serialized, .enabled(if: RedisServer.binary != nil, Comment(rawValue: RedisServer.missing)))
struct ClusterNodesTests {
    @Test func aSubscriberOnOneNodeGetsThePushForAWriteOnAnother() throws {
        let f = try ClusterFixture(nodes: 3)
        defer { f.shutdown() }
        let a = try WireStoreClient(port: f.nodes[0].port)
        let b = try WireStoreClient(port: f.nodes[1].port)
        let c = try WireStoreClient(port: f.nodes[2].port)
        #expect(a.askRaw(["id": 1, "type": "store.subscribe", "query": "all-items"])
                == #"{"id":1,"type":"result","data":{"subscriptionId":"sub-1","data":[]}}"#)
        let answer = try #require(b.askRaw(["id": 7, "type": "store.insert", "bucket": "items", "data": ["sku": "p1", "name": "Pear"]]))
        let record = try #require(WireStoreClient.parse(answer)["data"]?.objectValue)
        #expect(record["sku"] == "p1" && record["_version"] == 1)
        let push = try #require(a.nextPush(timeoutMs: 5000), "no push on node A")
        #expect(push.jsonString == JSON.object(["type": "push", "channel": "subscription", "subscriptionId": "sub-1",
                                                "data": [.object(record)]]).jsonString)
        // The third node has it too, the same bytes.
        #expect(ClusterFixture.converge([a, b, c]).allSatisfy { $0 == #"{"id":0,"type":"result","data":["# + JSON.object(record).jsonString + "]}" })
    }

    @Test func racingExpectedVersionUpdatesHaveOneWinnerEverywhere() throws {
        let f = try ClusterFixture(nodes: 3)
        defer { f.shutdown() }
        let clients = try f.nodes.map { try WireStoreClient(port: $0.port) }
        for round in 0..<5 {
            let key = JSON.string("r\(round)")
            #expect(clients[0].ask(["type": "store.insert", "bucket": "items", "data": ["sku": key, "name": "start"]])["type"] == "result")
            #expect(Set(ClusterFixture.converge(clients)).count == 1)
            // Both updates leave before either is answered.
            for (i, name) in ["from-A", "from-B"].enumerated() {
                let update: JSON = ["id": .int(Int64(100 + i)), "type": "store.update", "bucket": "items", "key": key,
                                    "data": ["name": .string(name)], "expectedVersion": 1]
                clients[i].ws.sendText(update.jsonString)
            }
            let answers = (0..<2).map { i in WireStoreClient.parse(clients[i].ws.nextText { $0.contains("\"id\":\(100 + i)") }) }
            let winners = answers.indices.filter { answers[$0]["type"] == "result" }
            #expect(winners.count == 1, "answers: \(answers.map(\.jsonString))")
            let loser = answers[1 - (winners.first ?? 0)]
            #expect(loser["code"] == "CONFLICT")
            let winner = try #require(winners.first)
            // Every node holds the winner's record, version 2.
            let reads = ClusterFixture.converge(clients).map { _ in () }
            #expect(reads.count == 3)
            for c in clients {
                let record = c.data(["type": "store.get", "bucket": "items", "key": key])
                #expect(record == answers[winner]["data"], "node disagrees: \(record.jsonString)")
                #expect(record["_version"] == 2 && record["name"] == .string(winner == 0 ? "from-A" : "from-B"))
            }
        }
    }

    @Test func aNodeKilledUnderWritesRestartsAndConverges() throws {
        let f = try ClusterFixture(nodes: 2)
        defer { f.shutdown() }
        let db = f.dir.file("c.db")
        var c = try f.start(["--persistence", "sqlite", "--db", db, "--fsync", "everysec"])
        f.nodes.append(c)
        let a = try WireStoreClient(port: f.nodes[0].port)
        let b = try WireStoreClient(port: f.nodes[1].port)
        var acknowledged: [String] = []
        func write(_ client: WireStoreClient, _ sku: String) {
            if client.askRaw(["type": "store.insert", "bucket": "items", "data": ["sku": .string(sku), "name": "w"]])?.contains(#""type":"result""#) == true {
                acknowledged.append(sku)
            }
        }
        for n in 0..<150 { write(n % 2 == 0 ? a : b, "before-\(n)") }
        // Writes in flight on C, and A and B writing on, when C is killed.
        let onC = try WireStoreClient(port: c.port)
        for n in 0..<40 {
            onC.ws.sendText(JSON.object(["id": .int(Int64(1000 + n)), "type": "store.insert", "bucket": "items",
                                         "data": ["sku": .string("c-\(n)"), "name": "c"]]).jsonString)
        }
        for n in 0..<20 { write(n % 2 == 0 ? a : b, "during-\(n)") }
        c.kill()
        for n in 0..<150 { write(n % 2 == 0 ? a : b, "down-\(n)") }
        c = try f.start(["--persistence", "sqlite", "--db", db, "--fsync", "everysec"])
        f.nodes.append(c)
        let restarted = try WireStoreClient(port: c.port)
        for n in 0..<100 { write(n % 3 == 0 ? restarted : (n % 3 == 1 ? a : b), "after-\(n)") }
        let digests = ClusterFixture.converge([a, b, restarted])
        #expect(Set(digests).count == 1, "nodes differ after the restart")
        let held = Set(WireStoreClient.parse(digests[0])["data"]?.arrayValue?.compactMap { $0["sku"]?.stringValue } ?? [])
        #expect(acknowledged.count == 420)
        #expect(acknowledged.allSatisfy(held.contains), "an acknowledged write is missing")
    }

    @Test func writesFailCleanlyWhileRedisIsDownAndNodesConvergeAfter() throws {
        let f = try ClusterFixture(nodes: 3, appendOnly: true)
        defer { f.shutdown() }
        let clients = try f.nodes.map { try WireStoreClient(port: $0.port) }
        #expect(clients[2].ask(["type": "store.subscribe", "query": "all-items"])["type"] == "result")
        for n in 0..<10 {
            #expect(clients[n % 3].ask(["type": "store.insert", "bucket": "items", "data": ["sku": .string("k\(n)"), "name": "x"]])["type"] == "result")
        }
        let before = ClusterFixture.converge(clients)
        #expect(Set(before).count == 1)
        _ = clients[2].takePushes()

        f.redis.kill()
        let failed = clients[0].ask(["id": 5, "type": "store.insert", "bucket": "items", "data": ["sku": "lost", "name": "x"]])
        #expect(failed["type"] == "error" && failed["code"] == "CLUSTER_UNAVAILABLE", "\(failed.jsonString)")
        #expect(failed["message"]?.stringValue?.hasPrefix("The cluster log is unavailable: ") == true)
        #expect(failed["details"]?["applied"] == "no" || failed["details"]?["applied"] == "unknown")
        // Reads go on from every node's own store, unchanged.
        #expect(clients.map(ClusterFixture.digest) == before)
        #expect(clients[1].ask(["type": "store.count", "bucket": "items"])["data"] == 10)

        try f.redis.start()
        var answer: JSON = .null
        let deadline = Date().addingTimeInterval(15)
        repeat {
            answer = clients[1].ask(["type": "store.insert", "bucket": "items", "data": ["sku": "back", "name": "y"]])
            if answer["type"] != "result" { usleep(100_000) }
        } while answer["type"] != "result" && answer["code"] != "ALREADY_EXISTS" && Date() < deadline
        #expect(answer["type"] == "result" || answer["code"] == "ALREADY_EXISTS", "\(answer.jsonString)")
        let after = ClusterFixture.converge(clients)
        #expect(Set(after).count == 1)
        #expect(after[0].contains(#""sku":"back""#))
        // The subscription on node C survived the outage and saw the write.
        #expect(clients[2].nextPush(timeoutMs: 5000)?.jsonString.contains(#""sku":"back""#) == true)
    }

    @Test func aWriteToAHungRedisIsAnsweredOnceAndAppliedWhenRedisResumes() throws {
        let f = try ClusterFixture(nodes: 2)
        defer {
            f.redis.resume()
            f.shutdown()
        }
        let clients = try f.nodes.map { try WireStoreClient(port: $0.port) }
        #expect(clients[0].ask(["type": "store.insert", "bucket": "items", "data": ["sku": "k0", "name": "x"]])["type"] == "result")
        f.redis.pause()  // SIGSTOP: the links stay up, nothing is answered
        let answer = clients[0].ask(["id": 9, "type": "store.insert", "bucket": "items", "data": ["sku": "hung", "name": "x"]])
        #expect(answer["code"] == "CLUSTER_UNAVAILABLE" && answer["details"]?["applied"] == "unknown", "\(answer.jsonString)")
        // The connection goes on: a read is answered from the node's store.
        #expect(clients[0].data(["type": "store.get", "bucket": "items", "key": "hung"]) == .null)
        f.redis.resume()
        // Redis had the append: every node applies it, and nobody is answered a second time.
        let digests = ClusterFixture.converge(clients)
        let deadline = Date().addingTimeInterval(10)
        var held = digests[0].contains(#""sku":"hung""#)
        while !held, Date() < deadline {
            usleep(50_000)
            held = clients.allSatisfy { $0.data(["type": "store.get", "bucket": "items", "key": "hung"])["sku"] == "hung" }
        }
        #expect(held)
        #expect(Set(ClusterFixture.converge(clients)).count == 1)
        // The next frame on that connection is the next answer: no second answer to request 9.
        #expect(clients[0].sendRaw(#"{"id":10,"type":"store.count","bucket":"items"}"#) == #"{"id":10,"type":"result","data":2}"#)
    }
}
