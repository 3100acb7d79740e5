import Foundation
import NoexCluster
import NoexJSON
import RedisTestSupport
import Testing

/// The log stops growing (docs/cluster.md#trimming-and-bootstrap): node processes over a real
/// `redis-server` publish their positions, the lease holder stores snapshots in Redis and trims
/// below what every live node still needs, and a new node bootstraps from the snapshot.
@Suite(.enabled(if: RedisServer.binary != nil, "redis-server is not installed"), .serialized)
struct ClusterTrimTests {
    /// Positions every 200 ms, a snapshot every 40 entries (or each second with new entries),
    /// a node dead after 5 s without a published position.
    static let config = """
        {"buckets": {"items": {"key": "sku", "schema": {"sku": {"type": "string", "required": true},
           "name": {"type": "string", "required": true}, "qty": {"type": "number", "default": 0}}}},
         "queries": {"all-items": {"bucket": "items"}},
         "cluster": {"writeTimeoutMs": 700, "startupTimeoutMs": 15000, "positionIntervalMs": 200,
                     "nodeTimeoutMs": 5000, "snapshotEveryEntries": 40, "snapshotIntervalMs": 1000}}
        """

    static func insert(_ c: WireStoreClient, _ sku: String) -> Bool {
        c.askRaw(["type": "store.insert", "bucket": "items", "data": ["sku": .string(sku), "name": "w"]])?
            .contains(#""type":"result""#) == true
    }

    /// Polls `condition` every 50 ms for at most `limitMs`; whether it became true.
    static func eventually(limitMs: Int = 15_000, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(Double(limitMs) / 1000)
        while !condition() {
            if Date() >= deadline { return false }
            usleep(50_000)
        }
        return true
    }

    static func id(_ text: String?) -> StreamID? { text.flatMap(StreamID.init) }

    /// Starts a node on the sqlite database `db` (fsync always; the fixture stops it) and connects.
    static func startDurable(_ f: ClusterFixture, _ db: String) throws -> (ClusterNodeProcess, WireStoreClient) {
        let node = try f.start(["--persistence", "sqlite", "--db", db, "--fsync", "always"])
        f.nodes.append(node)
        return (node, try WireStoreClient(port: node.port))
    }

    @Test func theHolderSnapshotsAndTrimsAndANewNodeBootstrapsFromTheSnapshot() throws {
        let f = try ClusterFixture(nodes: 3, config: Self.config)
        defer { f.shutdown() }
        let clients = try f.nodes.map { try WireStoreClient(port: $0.port) }
        for n in 0..<120 { #expect(Self.insert(clients[n % 3], "w-\(n)")) }
        let log = f.key("log")
        // Every node publishes its position.
        #expect(Self.eventually { f.redis.command(["HLEN", f.key("nodes")]) == ":3" })
        // A snapshot at (or after) the last write is stored, and the log is trimmed below it.
        let lastWrite = try #require(Self.id(f.lua("redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1][1]", keys: [log])))
        #expect(Self.eventually {
            (Self.id(f.lua("redis.call('GET', KEYS[1])", keys: [f.key("snapshot-position")])) ?? .zero) >= lastWrite
                && (Self.id(f.lua("redis.call('GET', KEYS[1])", keys: [f.key("trimmed")])) ?? .zero) > .zero
                && Int(f.redis.command(["XLEN", log])?.dropFirst() ?? "") ?? 999 < 60
        }, "the log was not trimmed: XLEN \(f.redis.command(["XLEN", log]) ?? "?")")
        // The holder says so on /metrics: snapshots stored, and what the last capture cost.
        let scrapes = f.nodes.compactMap { curl(port: $0.port, "/metrics")?.body }
        #expect(scrapes.count == 3 && scrapes.allSatisfy { $0.contains("\nnoex_cluster_snapshots_stored_total ") })
        let holders = scrapes.filter { !$0.contains("\nnoex_cluster_snapshots_stored_total 0\n") }
        #expect(holders.count >= 1 && holders.allSatisfy { !$0.contains("\nnoex_cluster_snapshot_bytes 0\n") }, "\(scrapes)")
        // A fourth node without persistence starts: the log's start is gone, so only the
        // snapshot lets it in (reading from the start it would refuse: trimmed).
        let d = try f.start()
        f.nodes.append(d)
        let all = clients + [try WireStoreClient(port: d.port)]
        #expect(Self.insert(all[3], "from-d"))
        let digests = ClusterFixture.converge(all)
        #expect(Set(digests).count == 1, "the new node differs")
        let held = WireStoreClient.parse(digests[3])["data"]?.arrayValue?.count
        #expect(held == 121)
    }

    @Test func aStoppedDurableNodeHoldsTheTrimBackUntilItTimesOutAndAnEmptyDatabaseBootstraps() throws {
        let f = try ClusterFixture(nodes: 2, config: Self.config)
        defer { f.shutdown() }
        let db = f.dir.file("d.db")
        let d = try f.start(["--persistence", "sqlite", "--db", db, "--fsync", "everysec"])
        f.nodes.append(d)
        let a = try WireStoreClient(port: f.nodes[0].port)
        let b = try WireStoreClient(port: f.nodes[1].port)
        let onD = try WireStoreClient(port: d.port)
        for n in 0..<30 { #expect(Self.insert(n % 3 == 0 ? onD : (n % 3 == 1 ? a : b), "before-\(n)")) }
        // The rule engine's state is replicated too: D's database holds these facts and rules.
        for key in ["keep", "gone"] { #expect(a.data(["type": "rules.setFact", "key": .string(key), "value": 1])["key"] == .string(key)) }
        let rule = WireRules.onEvent("old", "t.x", actions: [WireRules.setFact("hit", true)])
        #expect(b.data(["type": "rules.registerRule", "rule": rule])["id"] == "old")
        #expect(Set(ClusterFixture.converge([a, b, onD])).count == 1)
        #expect(Set(ClusterFixture.converge([a, b, onD], digest: ClusterRulesTests.rulesDigest)).count == 1)
        // D's published entry: its field and committed position.
        let durableEntry = """
            (function() local h = redis.call('HGETALL', KEYS[1]); for i = 1, #h, 2 do
              if string.find(h[i + 1], '"durable":true', 1, true) then return h[i] .. ' ' .. h[i + 1] end end
              return 'none' end)()
            """
        #expect(Self.eventually {
            let e = f.lua(durableEntry, keys: [f.key("nodes")]) ?? ""
            return e.contains(#""id":"#) && !e.contains(#""id":"0-0""#)
        })
        d.kill()
        let entry = try #require(f.lua(durableEntry, keys: [f.key("nodes")]))
        let field = String(entry.prefix { $0 != " " })
        let held = try #require(WireStoreClient.parse(String(entry.dropFirst(field.count + 1)))["position"]
            .flatMap(ClusterPosition.init(json:))).lastID
        // More writes: snapshots pass D's position, but while D's entry is live the log keeps
        // every entry after it. One atomic read: D's entry still there, and the trimmed marker.
        for n in 0..<60 { #expect(Self.insert(n % 2 == 0 ? a : b, "after-\(n)")) }
        // A record D holds is deleted while it is away: its reload must drop it. So must the
        // fact and the rule removed meanwhile; the new ones must come.
        #expect(a.ask(["type": "store.delete", "bucket": "items", "key": "before-1"])["type"] == "result")
        #expect(a.data(["type": "rules.deleteFact", "key": "gone"]) == ["deleted": true])
        #expect(b.data(["type": "rules.setFact", "key": "keep", "value": 2])["version"] == 2)
        #expect(a.data(["type": "rules.unregisterRule", "ruleId": "old"]) == ["ruleId": "old", "unregistered": true])
        #expect(b.data(["type": "rules.registerRule", "rule": WireRules.onEvent("new", "t.y", actions: [])])["id"] == "new")
        #expect(Self.eventually {
            (Self.id(f.lua("redis.call('GET', KEYS[1])", keys: [f.key("snapshot-position")])) ?? .zero) > held
        })
        let atomic = f.redis.command(["EVAL", "return redis.status_reply(redis.call('HEXISTS', KEYS[1], ARGV[1]) .. ' ' .. tostring(redis.call('GET', KEYS[2])))",
                                      "2", f.key("nodes"), f.key("trimmed"), field]) ?? ""
        let parts = atomic.dropFirst().split(separator: " ").map(String.init)
        #expect(parts.first == "1", "D timed out before a snapshot passed its position (machine too slow?): \(atomic)")
        #expect((Self.id(parts.last) ?? .zero) < held, "the log was trimmed past a live node's position: \(atomic)")
        #expect(f.redis.command(["XRANGE", f.key("log"), held.description, held.description]) == "*1")
        // Once D's entry times out, trimming moves past it and its entry is removed.
        var n = 0
        #expect(Self.eventually(limitMs: 20_000) {
            n += 1
            _ = Self.insert(a, "later-\(n)")
            return (Self.id(f.lua("redis.call('GET', KEYS[1])", keys: [f.key("trimmed")])) ?? .zero) > held
        })
        #expect(f.redis.command(["HEXISTS", f.key("nodes"), field]) == ":0")
        // D's database is now behind the log: restarted on it, D replaces its replicated state
        // with the snapshot (the deleted record goes) and follows the log after it …
        var (stale, onStale) = try Self.startDurable(f, db)
        #expect(Self.insert(onStale, "from-reloaded-d"))
        var reloaded = ClusterFixture.converge([a, b, onStale])
        #expect(Set(reloaded).count == 1, "the reloaded node differs")
        #expect(WireStoreClient.parse(reloaded[2])["data"]?.arrayValue?.contains { $0["sku"] == "before-1" } == false)
        var engines = ClusterFixture.converge([a, b, onStale], digest: ClusterRulesTests.rulesDigest)
        #expect(Set(engines).count == 1, "the reloaded node's rule engine differs:\n\(engines.joined(separator: "\n---\n"))")
        #expect(!engines[2].contains(#""key":"gone""#) && engines[2].contains(#""id":"new""#) && !engines[2].contains(#""id":"old""#))
        // … and the database holds it: killed and restarted on it, D resumes from the snapshot's
        // state (the log before the snapshot is gone: with the old records it would differ).
        stale.kill()
        #expect(Self.insert(a, "while-reloaded-d-down"))
        (stale, onStale) = try Self.startDurable(f, db)
        reloaded = ClusterFixture.converge([a, b, onStale])
        #expect(Set(reloaded).count == 1, "the reloaded node differs after its restart")
        engines = ClusterFixture.converge([a, b, onStale], digest: ClusterRulesTests.rulesDigest)
        #expect(Set(engines).count == 1, "the reloaded node's rule engine differs after its restart:\n\(engines.joined(separator: "\n---\n"))")
        // A new, empty database bootstraps from the snapshot, writing it into the database …
        let fresh = f.dir.file("fresh.db")
        var (e, firstE) = try Self.startDurable(f, fresh)
        #expect(Self.insert(firstE, "e-before-kill"))  // a commit after the bootstrap: the database has a position
        #expect(Set(ClusterFixture.converge([a, b, firstE])).count == 1)
        // … so that, killed and restarted, it resumes from that database (the log before the
        // snapshot is gone: without the snapshot's records in the database it would differ).
        e.kill()
        for n in 0..<10 { #expect(Self.insert(a, "while-e-down-\(n)")) }
        let onE: WireStoreClient
        (e, onE) = try Self.startDurable(f, fresh)
        #expect(Self.insert(onE, "from-e"))
        let digests = ClusterFixture.converge([a, b, onE])
        #expect(Set(digests).count == 1, "the bootstrapped durable node differs after its restart")
        #expect(WireStoreClient.parse(digests[2])["data"]?.arrayValue?.contains { $0["sku"] == "before-0" } == true)
    }
}
