import CUV
import Foundation
import NoexCluster
import NoexJSON
import NoexPersistence
import NoexStore
import Testing

/// N simulated nodes in one process, each with its own store (its own clock and random
/// source), its own append connection and its own reader, all on one real Redis stream.
/// Every node appends concurrently, deciding from its own (possibly stale) view; in the end
/// every store is byte-identical and every entry had the same outcome on every node.
@Suite(.serialized, .enabled(if: RedisServer.binary != nil, Comment(rawValue: RedisServer.missing)))
struct ClusterConvergenceTests {
    final class SimNode {
        let name: String
        let applier: ClusterApplier
        let log: ClusterLog
        let reader: ClusterLogReader
        var decisions: SeededRandom
        var clock: Int64
        var serial: UInt64 = 0
        var acked: [StreamID] = []
        var failed = 0
        var lastFailure = ""
        var outcomes: [StreamID: ClusterOutcome] = [:]

        init(_ i: Int, loop: TestLoop, redis: RedisServer, cluster: String, options: RedisConnectionOptions = .init()) {
            name = "node\(i)"
            var t: Int64 = 1_700_000_000_000 + Int64(i) * 3_001  // clocks disagree by seconds
            clock = t
            applier = ClusterApplier(store: Store(name: name, nowMs: { t += 1; return t }, random: SeededRandom(seed: UInt64(100 + i))))
            decisions = SeededRandom(seed: UInt64(7_000 + i))
            log = ClusterLog(cluster: cluster, connection: RedisConnection(loop: loop.loop, endpoint: redis.endpoint, options: options))
            log.connection.start()
            reader = ClusterLogReader(cluster: cluster, connection: RedisConnection(loop: loop.loop, endpoint: redis.endpoint, options: options),
                                      from: .zero, batch: 16)
            reader.onEntry = { [unowned self] id, entry in
                if let o = self.applier.apply(id: id, entry: entry ?? .null) { self.outcomes[id] = o }
            }
            reader.start()
        }

        var store: Store { applier.store }

        func submit(_ op: ClusterOperation) {
            serial += 1
            clock += Int64(decisions.next() % 50)
            let command = ClusterCommand.decide(op, origin: name, request: serial, nowMs: clock, random: &decisions)
            log.append(command) { [unowned self] in
                switch $0 {
                case .success(let id): self.acked.append(id)
                case .failure(let f):
                    self.failed += 1
                    self.lastFailure = "\(f)"
                }
            }
        }

        /// A random write decided from this node's current view of the data.
        func randomWrite() {
            let roll = decisions.next() % 100
            let items = (try? store.all(bucket: "items")) ?? []
            let pick = items.isEmpty ? nil : items[Int(decisions.next() % UInt64(items.count))]
            let version = pick?["_version"]?.intValue
            let guarded = decisions.next() % 2 == 0
            switch roll {
            case 0..<35: submit(.insert(bucket: "items", data: ["email": .string("e\(decisions.next() % 60)"), "n": .int(Int64(roll))]))
            case 35..<50: submit(.insert(bucket: "seq", data: ["v": .int(Int64(roll))]))
            case 50..<70 where pick != nil:
                submit(.update(bucket: "items", key: pick!["id"]!, data: ["n": .int(Int64(decisions.next() % 1000))], expectedVersion: guarded ? version : nil))
            case 70..<80 where pick != nil:
                submit(.delete(bucket: "items", key: pick!["id"]!, expectedVersion: guarded ? version : nil))
            case 80..<90:
                var ops: [JSON] = [["op": "insert", "bucket": "seq", "data": ["v": 1]], ["op": "insert", "bucket": "items", "data": ["email": .string("t\(decisions.next() % 60)")]]]
                if let pick { ops.append(["op": "update", "bucket": "items", "key": pick["id"]!, "data": ["n": -1]]) }
                submit(.transaction(operations: ops))
            case 90..<95: submit(.insert(bucket: "ttl", data: ["k": .string("k\(decisions.next() % 1000)")]))
            case 95..<98: submit(.purgeExpired)
            case 98: submit(.clear(bucket: "seq"))
            default: submit(.updateBucket(name: "items", updates: ["addIndexes": ["n"]]))
            }
        }

        func close() {
            reader.stop()
            reader.connection.close()
            log.connection.close()
        }
    }

    let buckets: [(String, JSONObject)] = [
        ("items", ["key": "id", "schema": ["id": ["type": "string", "generated": "uuid"], "email": ["type": "string", "unique": true],
                                           "n": ["type": "number"], "tag": ["type": "string", "generated": "cuid"]]]),
        ("seq", ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"], "v": ["type": "number"]], "maxSize": 25]),
        ("ttl", ["key": "k", "schema": ["k": ["type": "string"], "at": ["type": "number", "generated": "timestamp"]], "ttl": 40]),
    ]

    @Test(arguments: [4])
    func concurrentWritersConverge(_ n: Int) throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        let loop = TestLoop()
        let nodes = (0..<n).map { SimNode($0, loop: loop, redis: redis, cluster: "sim") }
        func acked() -> Int { nodes.reduce(0) { $0 + $1.acked.count } }
        func quiescent(_ total: Int) -> Bool {
            acked() == total && nodes.allSatisfy { $0.outcomes.count == total }
        }

        // Every node defines every bucket at once: exactly one definition of each wins.
        for node in nodes { for (name, config) in buckets { node.submit(.defineBucket(name: name, config: config)) } }
        var total = n * buckets.count
        #expect(loop.run { quiescent(total) })
        let defineWins = nodes[0].outcomes.values.filter { if case .applied = $0 { true } else { false } }
        #expect(defineWins.count == buckets.count)

        // Rounds of concurrent writes, each decided from a view that other nodes' writes in
        // flight make stale; the loop only runs until this round's appends are acknowledged.
        for _ in 0..<25 {
            for node in nodes { for _ in 0..<4 { node.randomWrite() } }
            total += n * 4
            #expect(loop.run { acked() == total })
        }
        #expect(loop.run { quiescent(total) })

        // The expectedVersion race: every node read the same version of one record and updates it.
        let target = try #require(try nodes[0].store.all(bucket: "items").first)
        let key = target["id"]!, version = target["_version"]!.intValue!
        let before = Set(nodes[0].outcomes.keys)
        for node in nodes {
            #expect(try node.store.get(bucket: "items", key: key)?["_version"]?.intValue == version)
            node.submit(.update(bucket: "items", key: key, data: ["n": .int(Int64(node.name.count))], expectedVersion: version))
        }
        total += n
        #expect(loop.run { quiescent(total) })
        let raceIDs = Set(nodes[0].outcomes.keys).subtracting(before).sorted()
        #expect(raceIDs.count == n)
        for node in nodes {
            let race = raceIDs.map { node.outcomes[$0]! }
            #expect(race.filter { if case .applied = $0 { true } else { false } }.count == 1)
            #expect(race.filter { if case .rejected(.versionConflict) = $0 { true } else { false } }.count == n - 1)
        }

        // Same outcome for every entry, same bytes in every store.
        #expect(nodes.allSatisfy { $0.failed == 0 })
        for node in nodes.dropFirst() {
            #expect(node.outcomes == nodes[0].outcomes)
            #expect(digest(node.store, node.applier.position) == digest(nodes[0].store, nodes[0].applier.position))
        }
        // The run exercised what it claims to: conflicts, unique violations, TTL purges happened.
        let all = Array(nodes[0].outcomes.values)
        #expect(all.contains { if case .rejected(.uniqueConstraint) = $0 { true } else { false } })
        #expect(all.contains { if case .rejected(.versionConflict) = $0 { true } else { false } })
        #expect(all.contains { if case .applied(let j) = $0, (j["purged"]?.intValue ?? 0) > 0 { true } else { false } })
        #expect(try nodes[0].store.count(bucket: "items") > 0)

        // A node bootstrapped from another's snapshot follows on identically.
        let snapshot = ClusterSnapshot.capture(nodes[1].store, at: nodes[1].applier.position)
        let joiner = Store(name: "joiner", nowMs: { 0 })
        let position = try ClusterSnapshot.restore(snapshot, into: joiner)
        let joined = ClusterApplier(store: joiner, position: position)
        let follower = ClusterLogReader(cluster: "sim", connection: RedisConnection(loop: loop.loop, endpoint: redis.endpoint), from: position.lastID)
        follower.onEntry = { id, entry in _ = joined.apply(id: id, entry: entry ?? .null) }
        follower.start()
        for node in nodes { node.randomWrite() }
        total += n
        #expect(loop.run { quiescent(total) && joined.position.lastID == nodes[0].applier.position.lastID })
        #expect(digest(joiner, joined.position) == digest(nodes[0].store, nodes[0].applier.position))

        follower.stop(); follower.connection.close()
        for node in nodes { node.close() }
        loop.close()
    }

    @Test func writesFailCleanlyWhileRedisIsDownAndNodesConvergeAfter() throws {
        let redis = try RedisServer(appendOnly: true)
        defer { redis.shutdown() }
        let loop = TestLoop()
        var options = RedisConnectionOptions()
        options.maxQueueWaitMs = 300
        options.reconnectMaxMs = 100
        let nodes = (0..<3).map { SimNode($0, loop: loop, redis: redis, cluster: "down", options: options) }
        func acked() -> Int { nodes.reduce(0) { $0 + $1.acked.count } }
        func failed() -> Int { nodes.reduce(0) { $0 + $1.failed } }
        nodes[0].submit(.defineBucket(name: buckets[0].0, config: buckets[0].1))
        for node in nodes { for _ in 0..<5 { node.submit(.insert(bucket: "items", data: ["email": .string("\(node.name)-\(node.serial)")])) } }
        #expect(loop.run { acked() == 16 && nodes.allSatisfy { $0.outcomes.count == 16 } })
        let countBefore = try nodes[0].store.count(bucket: "items")

        redis.kill()
        // Appends while Redis is down fail within the queue bound; the local stores keep serving reads.
        for node in nodes { node.submit(.insert(bucket: "items", data: ["email": .string("lost-\(node.name)")])) }
        #expect(loop.run { failed() == 3 })
        #expect(try nodes.map { try $0.store.count(bucket: "items") } == [countBefore, countBefore, countBefore])

        let connectsBefore = nodes.map { $0.log.connection.connects }
        try redis.start()
        // Appends are made once every node is linked again: a send that waits out
        // `maxQueueWaitMs` before a slow reconnect (a loaded machine) fails by design.
        #expect(loop.run { nodes.indices.allSatisfy { nodes[$0].log.connection.connects > connectsBefore[$0] && nodes[$0].log.connection.state == .connected } })
        for node in nodes { for _ in 0..<5 { node.submit(.insert(bucket: "items", data: ["email": .string("\(node.name)-\(node.serial)")])) } }
        #expect(loop.run { acked() == 31 && nodes.allSatisfy { $0.outcomes.count == 31 } },
                "acked \(acked()), failed \(failed()), applied \(nodes.map { $0.outcomes.count }), links \(nodes.map { "\($0.log.connection.state)/\($0.reader.connection.state)" }), last failure \(nodes.map(\.lastFailure))")
        for node in nodes.dropFirst() {
            #expect(digest(node.store, node.applier.position) == digest(nodes[0].store, nodes[0].applier.position))
        }
        #expect(try nodes[0].store.count(bucket: "items") == countBefore + 15)
        #expect(try nodes[0].store.where(bucket: "items", filter: ["email": "lost-node0"]).isEmpty)
        #expect(nodes.allSatisfy { $0.reader.connection.connects == 2 })
        for node in nodes { node.close() }
        loop.close()
    }

    /// A node on the `sqlite` engine: its position is read from its database at start, and it
    /// group-commits every `commitEvery` entries (as the server commits once per loop iteration).
    final class DurableNode {
        let applier: ClusterApplier
        let durable: DurableStore
        let reader: ClusterLogReader
        var applied = 0

        init(path: String, loop: TestLoop, redis: RedisServer, cluster: String, commitEvery: Int = 7) throws {
            var t: Int64 = 1_600_000_000_000  // a clock far behind the others: it must not matter
            let store = Store(name: "durable", nowMs: { t += 1; return t })
            durable = try DurableStore(path: path, policy: .no, store: store, loop: loop.loop)
            let position = try durable.storedClusterPosition().flatMap(ClusterPosition.init(text:)) ?? .start
            applier = ClusterApplier(store: store, position: position)
            applier.journal = durable
            reader = ClusterLogReader(cluster: cluster, connection: RedisConnection(loop: loop.loop, endpoint: redis.endpoint),
                                      from: position.lastID, batch: 5)
            applier.onPosition = { [unowned self] in self.durable.clusterPosition = $0.text }
            reader.onEntry = { [unowned self] id, entry in
                _ = self.applier.apply(id: id, entry: entry ?? .null)
                self.applied += 1
                if self.applied % commitEvery == 0 { self.durable.commitPending { _ in } }
            }
            reader.start()
        }

        /// Stops without committing what is pending, as a kill -9 between two group commits.
        func crash() {
            reader.stop()
            reader.connection.close()
            durable.close()
        }
    }

    @Test func aRestartedDurableNodeResumesFromItsStoredPosition() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        let dir = makeTemporaryDirectory("noex-cluster-restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let loop = TestLoop()
        let nodes = (0..<2).map { SimNode($0, loop: loop, redis: redis, cluster: "restart") }
        func acked() -> Int { nodes.reduce(0) { $0 + $1.acked.count } }
        var total = 0
        func round() {
            for node in nodes { for _ in 0..<5 { node.randomWrite() } }
            total += 10
        }
        for (name, config) in buckets { nodes[0].submit(.defineBucket(name: name, config: config)) }
        total += buckets.count
        var node: DurableNode? = try DurableNode(path: dir + "/node.db", loop: loop, redis: redis, cluster: "restart")
        for _ in 0..<8 { round(); #expect(loop.run { acked() == total }) }
        #expect(loop.run { node!.applied == total && nodes[0].outcomes.count == total })
        // Crash with entries applied but not committed.
        round()
        #expect(loop.run { acked() == total && node!.applied == total })
        if node!.applied % 7 == 0 { round(); #expect(loop.run { acked() == total && node!.applied == total }) }
        #expect(node!.durable.hasPending)
        let crashedAt = node!.applier.position
        node!.crash()
        node = nil
        // The cluster goes on without it.
        for _ in 0..<4 { round(); #expect(loop.run { acked() == total }) }
        #expect(loop.run { nodes.allSatisfy { $0.outcomes.count == total } })

        // Restart: it resumes after the last entry whose effects reached the database, behind
        // where it had applied to in memory, and catches up to the same bytes as everyone.
        let restarted = try DurableNode(path: dir + "/node.db", loop: loop, redis: redis, cluster: "restart")
        let resumedAt = restarted.applier.position
        #expect(resumedAt.lastID < crashedAt.lastID)
        #expect(resumedAt.lastID > .zero)
        #expect(loop.run { restarted.applier.position.lastID == nodes[0].applier.position.lastID })
        #expect(digest(restarted.applier.store, restarted.applier.position) == digest(nodes[0].store, nodes[0].applier.position))
        restarted.crash()
        for n in nodes { n.close() }
        loop.close()
    }
}
