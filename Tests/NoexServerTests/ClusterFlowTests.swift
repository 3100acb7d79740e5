import Foundation
import NoexCluster
import NoexJSON
import RedisTestSupport
import Testing

/// A node that takes care of itself (docs/cluster.md#bounded-staleness-flow-control): flow control refuses
/// writes while a live node is too far behind, a clean stop removes the node's entry, a halted
/// node says so on /health and /metrics. Node processes over a real `redis-server`.
@Suite(.enabled(if: RedisServer.binary != nil, "redis-server is not installed"), .serialized)
struct ClusterFlowTests {
    /// A bound of 1 s (positions every 200 ms); a silent node counts for 20 s, longer than the
    /// test keeps one stopped, so only catching up ends the refusals.
    static let config = """
        {"buckets": {"items": {"key": "sku", "schema": {"sku": {"type": "string", "required": true},
           "name": {"type": "string", "required": true}, "qty": {"type": "number", "default": 0}}}},
         "queries": {"all-items": {"bucket": "items"}},
         "cluster": {"writeTimeoutMs": 700, "startupTimeoutMs": 15000, "positionIntervalMs": 200,
                     "nodeTimeoutMs": 20000, "maxLagMs": 1000}}
        """

    static func insert(_ c: WireStoreClient, _ sku: String) -> JSON {
        c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": .string(sku), "name": "w"]])
    }

    /// The node's origin id, from its /health.
    static func origin(_ node: ClusterNodeProcess) throws -> String {
        let body = try #require(curl(port: node.port, "/health")).body
        return try #require(WireStoreClient.parse(body)["cluster"]?["origin"]?.stringValue, "\(body)")
    }

    @Test func writesAreRefusedWhileANodeLagsAndResumeOnceItCaughtUp() throws {
        let f = try ClusterFixture(nodes: 3, config: Self.config)
        defer { f.shutdown() }
        let clients = try f.nodes.map { try WireStoreClient(port: $0.port) }
        let (a, b) = (clients[0], clients[1])
        for n in 0..<9 { #expect(Self.insert(clients[n % 3], "before-\(n)")["type"] == "result") }
        #expect(Set(ClusterFixture.converge(clients)).count == 1)
        let slow = f.nodes[2]
        let slowOrigin = try Self.origin(slow)
        // C has published that it serves and applied the last write (a node still catching up
        // at start does not count).
        let last = try #require(f.lua("redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1][1]", keys: [f.key("log")]))
        #expect(ClusterTrimTests.eventually {
            let entry = WireStoreClient.parse(f.lua("redis.call('HGET', KEYS[1], '\(slowOrigin)')", keys: [f.key("nodes")]))
            return entry["joining"] == nil && entry["applied"]?.stringValue == last
        })
        // C stops (SIGSTOP): it neither reads nor publishes. Writes on A go on until A sees C
        // more than 1 s behind, then are refused at once; nothing refused was applied.
        kill(slow.process.processIdentifier, SIGSTOP)
        defer { kill(slow.process.processIdentifier, SIGCONT) }
        var acknowledged = 9
        var refusal: JSON?
        let deadline = Date().addingTimeInterval(10)
        var n = 0
        while refusal == nil, Date() < deadline {
            n += 1
            let answer = Self.insert(a, "during-\(n)")
            if answer["type"] == "result" { acknowledged += 1 } else { refusal = answer }
            usleep(20_000)
        }
        let r = try #require(refusal, "no write was refused while a node was stopped")
        #expect(r["code"] == "CLUSTER_UNAVAILABLE", "\(r.jsonString)")
        #expect(r["details"]?["applied"] == "no" && r["details"]?["node"]?.stringValue == slowOrigin, "\(r.jsonString)")
        #expect((r["details"]?["lagMs"]?.intValue ?? 0) > 1000, "\(r.jsonString)")
        let message = r["message"]?.stringValue ?? ""
        #expect(message.contains("node \(slowOrigin) is ") && message.contains(" ms behind the cluster log, above cluster.maxLagMs (1000 ms)"), "\(message)")
        // A refused connection is paused briefly, not dropped: a write and a read pipelined
        // behind it are answered in order.
        a.ws.sendText(#"{"id":9001,"type":"store.insert","bucket":"items","data":{"sku":"piped","name":"w"}}"#)
        a.ws.sendText(#"{"id":9002,"type":"store.count","bucket":"items"}"#)
        let first = WireStoreClient.parse(a.ws.nextText()), second = WireStoreClient.parse(a.ws.nextText())
        #expect(first["id"] == 9001 && first["code"] == "CLUSTER_UNAVAILABLE", "\(first.jsonString)")
        #expect(second["id"] == 9002 && second["data"] == .int(Int64(acknowledged)), "\(second.jsonString)")
        // Every node refuses (B too), reads go on, and the metrics count the refusals.
        let onB = Self.insert(b, "refused-on-b")
        #expect(onB["code"] == "CLUSTER_UNAVAILABLE" && onB["details"]?["node"]?.stringValue == slowOrigin, "\(onB.jsonString)")
        #expect(a.data(["type": "store.count", "bucket": "items"]) == .int(Int64(acknowledged)))
        let scrape = curl(port: f.nodes[0].port, "/metrics")?.body ?? ""
        #expect(!scrape.contains("\nnoex_cluster_writes_refused_lag_total 0\n") && scrape.contains("\nnoex_cluster_writes_refused_lag_total "), "\(scrape)")
        let health = try #require(curl(port: f.nodes[0].port, "/health"))
        #expect(health.status == 200 && (WireStoreClient.parse(health.body)["cluster"]?["lagMs"]?.intValue ?? 0) > 1000, "\(health.body)")
        // C resumes: it reads the backlog, publishes, and writes are taken again.
        kill(slow.process.processIdentifier, SIGCONT)
        var resumed = false
        let until = Date().addingTimeInterval(15)
        while !resumed, Date() < until {
            n += 1
            if Self.insert(a, "after-\(n)")["type"] == "result" { acknowledged += 1; resumed = true } else { usleep(50_000) }
        }
        #expect(resumed, "writes stayed refused after the stopped node resumed")
        let c = try WireStoreClient(port: slow.port)
        let digests = ClusterFixture.converge([a, b, c])
        #expect(Set(digests).count == 1, "the resumed node differs")
        #expect(WireStoreClient.parse(digests[2])["data"]?.arrayValue?.count == acknowledged)
    }

    @Test func aCleanStopRemovesTheNodesEntryAtOnce() throws {
        let f = try ClusterFixture(nodes: 2, config: Self.config)
        defer { f.shutdown() }
        let leaving = f.nodes[1]
        let field = try Self.origin(leaving)
        #expect(ClusterTrimTests.eventually { f.redis.command(["HEXISTS", f.key("nodes"), field]) == ":1" })
        kill(leaving.process.processIdentifier, SIGTERM)
        leaving.process.waitUntilExit()
        #expect(leaving.process.terminationStatus == 0)
        // Gone at once, not after nodeTimeoutMs (20 s): the other node's entry stays.
        #expect(f.redis.command(["HEXISTS", f.key("nodes"), field]) == ":0")
        #expect(f.redis.command(["HEXISTS", f.key("nodes"), try Self.origin(f.nodes[0])]) == ":1")
        // The remaining node takes writes (flow control does not wait for the stopped node).
        let a = try WireStoreClient(port: f.nodes[0].port)
        #expect(Self.insert(a, "after-stop")["type"] == "result")
    }

    @Test func aNodeWhoseLogKeyBreaksIsHaltedOnHealthAndMetrics() throws {
        let f = try ClusterFixture(nodes: 1, config: Self.config)
        defer { f.shutdown() }
        let node = f.nodes[0]
        let a = try WireStoreClient(port: node.port)
        #expect(Self.insert(a, "first")["type"] == "result")
        #expect(curl(port: node.port, "/metrics")?.body.contains("\nnoex_cluster_halted 0\n") == true)
        // The log key is replaced by a string: the next read gets an error reply.
        #expect(f.redis.command(["DEL", f.key("log")]) == ":1")
        #expect(f.redis.command(["SET", f.key("log"), "not a stream"]) == "+OK")
        var health = curl(port: node.port, "/health")
        #expect(ClusterTrimTests.eventually {
            health = curl(port: node.port, "/health")
            return health?.status == 503
        }, "\(health?.body ?? "no answer")")
        #expect(health?.body.hasPrefix(#"{"status":"halted","reason":"reading the cluster log failed (XREAD noex:{wire}:log failed: WRONGTYPE"#) == true,
                "\(health?.body ?? "")")
        #expect(curl(port: node.port, "/metrics")?.body.contains("\nnoex_cluster_halted 1\n") == true)
        let refused = Self.insert(a, "second")
        #expect(refused["code"] == "CLUSTER_UNAVAILABLE" && refused["details"]?["applied"] == "no", "\(refused.jsonString)")
        #expect(a.data(["type": "store.count", "bucket": "items"]) == 1)
    }

    /// An entry written by a newer node (here: format version 2, appended by hand) is not
    /// skipped: the node halts before it, says which entry and what to do, and keeps serving
    /// reads; entries after it are not applied.
    @Test func anEntryOfANewerFormatHaltsTheNodeBeforeIt() throws {
        let f = try ClusterFixture(nodes: 1, config: Self.config)
        defer { f.shutdown() }
        let node = f.nodes[0]
        let a = try WireStoreClient(port: node.port)
        #expect(Self.insert(a, "first")["type"] == "result")
        let entry = #"{"v":2,"origin":"future","req":"1","at":1,"seed":"00000000000000010000000000000002","op":"clear","bucket":"items"}"#
        let id = "99999999999999-0"  // after every entry the node appended
        let reply = f.redis.command(["XADD", f.key("log"), id, "c", entry]) ?? "no answer"
        #expect(reply == "$\(id.utf8.count)", "\(reply)")  // the id comes back as a bulk string
        var health = curl(port: node.port, "/health")
        #expect(ClusterTrimTests.eventually {
            health = curl(port: node.port, "/health")
            return health?.status == 503
        }, "\(health?.body ?? "no answer")")
        let body = health?.body ?? ""
        #expect(body.contains("log entry \(id) cannot be applied by this node (entry has format version 2, newer than this node's 1: upgrade this node)"), "\(body) / \(reply)")
        #expect(curl(port: node.port, "/metrics")?.body.contains("\nnoex_cluster_halted 1\n") == true)
        // The clear was not applied, and nothing after it is.
        #expect(a.data(["type": "store.count", "bucket": "items"]) == 1)
        let refused = Self.insert(a, "second")
        #expect(refused["code"] == "CLUSTER_UNAVAILABLE" && refused["details"]?["applied"] == "no", "\(refused.jsonString)")
    }
}
