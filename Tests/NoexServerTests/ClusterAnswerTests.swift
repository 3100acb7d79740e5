import Foundation
import NoexCluster
import NoexJSON
import NoexRules
import NoexStore
import RedisTestSupport
import Testing
@testable import NoexServer

/// In cluster mode every store write goes through the Redis log and is answered when the origin
/// applies its own entry: the answers must be the single server's, byte for byte (timestamps
/// aside), errors included. One script runs against a single server and against a cluster node
/// (in process, a real `redis-server`), over real sockets.
@Suite(.serialized, .enabled(if: RedisServer.binary != nil, Comment(rawValue: RedisServer.missing)))
struct ClusterAnswerTests {
    /// Every write the wire can make, with each way it can fail, then reads of the result.
    static let script: [JSONObject] = [
        ["type": "store.insert", "bucket": "items", "data": ["sku": "a1", "name": "Apple", "code": "A"]],
        ["type": "store.insert", "bucket": "items", "data": ["sku": "a1", "name": "Again"]],
        ["type": "store.insert", "bucket": "items", "data": ["sku": "a2", "name": "Dup", "code": "A"]],
        ["type": "store.insert", "bucket": "items", "data": ["sku": "b1", "qty": "many"]],
        ["type": "store.insert", "bucket": "ghost", "data": [:]],
        ["type": "store.insert", "bucket": "items"],
        ["type": "store.insert", "data": ["sku": "x"]],
        ["type": "store.insert", "bucket": "_audit", "data": [:]],
        ["type": "store.update", "bucket": "items", "key": "a1", "data": ["qty": 5], "expectedVersion": 1],
        ["type": "store.update", "bucket": "items", "key": "a1", "data": ["qty": 6], "expectedVersion": 1],
        ["type": "store.update", "bucket": "items", "key": "zz", "data": ["qty": 6]],
        ["type": "store.update", "bucket": "items", "key": "a1", "data": ["qty": 6], "expectedVersion": "x"],
        ["type": "store.update", "bucket": "items", "data": ["qty": 6]],
        ["type": "store.delete", "bucket": "items", "key": "a1", "expectedVersion": 9],
        ["type": "store.transaction", "operations": [
            ["op": "insert", "bucket": "items", "data": ["sku": "t1", "name": "T"]],
            ["op": "update", "bucket": "items", "key": "a1", "data": ["name": "Apple 2"]],
            ["op": "get", "bucket": "items", "key": "t1"],
        ]],
        ["type": "store.transaction", "operations": [
            ["op": "insert", "bucket": "items", "data": ["sku": "t2", "name": "T"]],
            ["op": "insert", "bucket": "items", "data": ["sku": "t2", "name": "T"]],
        ]],
        ["type": "store.transaction", "operations": []],
        ["type": "store.transaction", "operations": [["op": "insert", "bucket": "_audit", "data": [:]]]],
        ["type": "store.delete", "bucket": "items", "key": "t1"],
        ["type": "store.defineBucket", "name": "notes", "config": ["key": "id", "schema": ["id": ["type": "string", "required": true]]]],
        ["type": "store.defineBucket", "name": "notes", "config": ["key": "id"]],
        ["type": "store.defineBucket", "name": "bad", "config": ["key": 7]],
        ["type": "store.updateBucket", "name": "notes", "updates": ["schema": ["id": ["type": "string", "required": true], "t": ["type": "string"]]]],
        ["type": "store.updateBucket", "name": "ghost", "updates": [:]],
        ["type": "store.insert", "bucket": "notes", "data": ["id": "n1", "t": "hi"]],
        ["type": "store.defineQuery", "name": "all-notes", "config": ["bucket": "notes"]],
        ["type": "store.defineQuery", "name": "all-notes", "config": ["bucket": "notes"]],
        ["type": "store.defineQuery", "name": "sneaky", "config": ["bucket": "_audit"]],
        ["type": "store.undefineQuery", "name": "all-notes"],
        ["type": "store.undefineQuery", "name": "all-notes"],
        ["type": "store.clear", "bucket": "notes"],
        ["type": "store.clear", "bucket": "ghost"],
        ["type": "store.dropBucket", "name": "notes"],
        ["type": "store.dropBucket", "name": "notes"],
        ["type": "store.all", "bucket": "items"],
        ["type": "store.buckets"],
        ["type": "store.listQueries"],
    ]

    /// Every rule-engine input with each way it can fail (request checks and engine errors), then reads.
    static let rulesScript: [JSONObject] = [
        ["type": "rules.registerRule", "rule": WireRules.r1],
        ["type": "rules.registerRule", "rule": WireRules.r1],
        ["type": "rules.registerRule", "rule": ["id": "bad"]],
        ["type": "rules.registerRule"],
        ["type": "rules.emit", "topic": "t.x", "data": ["a": 1], "correlationId": "c1", "causationId": "z"],
        ["type": "rules.emit", "topic": ""],
        ["type": "rules.emit", "topic": "t", "data": 3],
        ["type": "rules.emit", "topic": "t", "correlationId": ""],
        ["type": "rules.setFact", "key": "k", "value": ["n": 1]],
        ["type": "rules.setFact", "key": "k", "value": .null],
        ["type": "rules.setFact", "key": "k"],
        ["type": "rules.deleteFact", "key": "k"],
        ["type": "rules.deleteFact", "key": "k"],
        ["type": "rules.updateRule", "ruleId": "r1", "updates": ["name": "renamed"]],
        ["type": "rules.updateRule", "ruleId": "nope", "updates": [:]],
        ["type": "rules.updateRule", "ruleId": "r1"],
        ["type": "rules.disableRule", "ruleId": "r1"],
        ["type": "rules.enableRule", "ruleId": "nope"],
        ["type": "rules.unregisterRule", "ruleId": "r1"],
        ["type": "rules.unregisterRule", "ruleId": "r1"],
        ["type": "rules.getRules"],
        ["type": "rules.getAllFacts"],
    ]

    /// The answers to the script, timestamps replaced by 0.
    private func answers(port: Int, script: [JSONObject] = Self.script) throws -> [String] {
        let c = try WireStoreClient(port: port)
        return script.enumerated().map { i, request in
            var r = request
            r["id"] = .int(Int64(i + 1))
            return Self.withoutTimestamps(c.askRaw(r) ?? "no answer")
        }
    }

    static func withoutTimestamps(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let r = rest.range(of: "At\":") {
            out += rest[..<r.upperBound]
            rest = rest[r.upperBound...]
            let digits = rest.prefix { $0.isNumber }
            out += digits.isEmpty ? "" : "\"ts\""
            rest = rest.dropFirst(digits.count)
        }
        return out + rest
    }

    /// An in-process node of the cluster `name` on the wire-test fixture.
    static func node(_ redis: RedisServer, _ name: String, rules: Bool = false) -> ServerThread {
        let endpoint = redis.endpoint
        return ServerThread {
            var c = ServerConfig(store: wireStoreFixture(),
                                 rules: rules ? RuleEngine(config: RuleEngineConfig(name: "rule-engine"), clock: WallRulesClock()) : nil)
            c.cluster = ClusterConfig(redis: endpoint, name: name)
            return c
        }
    }

    @Test func aClusterNodeAnswersEveryWriteAsTheSingleServer() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        let single = ServerThread { ServerConfig(store: wireStoreFixture()) }
        defer { single.stop() }
        let node = Self.node(redis, "answers")
        defer { node.stop() }
        #expect(node.startError == nil)
        let expected = try answers(port: single.port)
        let got = try answers(port: node.port)
        #expect(got.count == expected.count)
        for (i, (g, e)) in zip(got, expected).enumerated() {
            #expect(g == e, "request \(i + 1) \(JSON.object(Self.script[i]).jsonString)")
        }
        // The writes really went through the log: one entry per write request.
        let writes = Self.script.filter { ClusterRequest.writes.contains($0["type"]!.stringValue!) }.count
        // Seven writes fail their request checks (fields, system buckets) before the append.
        #expect(redis.command(["XLEN", "noex:{answers}:log"]) == ":\(writes - 7)")
        let health = try #require(curl(port: node.port, "/health"))
        #expect(health.status == 200 && health.body.contains(#","cluster":{"name":"answers","redis":true,"pendingWrites":0,"origin":"answers-"#)
                && health.body.hasSuffix(#"","lagMs":0}}"#), "\(health.body)")
        let scrape = try #require(curl(port: node.port, "/metrics")).body
        #expect(scrape.contains("\nnoex_cluster_entries_applied_total \(writes - 7)\n"))
        #expect(scrape.contains("\nnoex_cluster_pending_writes 0\n") && scrape.contains("\nnoex_cluster_redis_connected 1\n"))
        #expect(scrape.contains("noex_request_errors_total{op=\"store.insert\",code=\"ALREADY_EXISTS\"} 2"))
    }

    /// The rule-engine inputs go through the log too, and are answered with the single server's
    /// bytes (timestamps and event ids aside: they are the entry's).
    @Test func aClusterNodeAnswersEveryRulesInputAsTheSingleServer() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        let single = WireRules.server()
        defer { single.stop() }
        let node = Self.node(redis, "rules", rules: true)
        defer { node.stop() }
        #expect(node.startError == nil)
        let eventID = try Regex(#""id":"[0-9a-z]+-[0-9a-z]{9}""#)
        let timestamp = try Regex(#""timestamp":[0-9]+"#)
        func normal(_ s: String) -> String {
            s.replacing(eventID, with: #""id":"ID""#).replacing(timestamp, with: #""timestamp":"ts""#)
        }
        let expected = try answers(port: single.port, script: Self.rulesScript).map(normal)
        let got = try answers(port: node.port, script: Self.rulesScript).map(normal)
        #expect(got.count == expected.count)
        for (i, (g, e)) in zip(got, expected).enumerated() {
            #expect(g == e, "request \(i + 1) \(JSON.object(Self.rulesScript[i]).jsonString)")
        }
        #expect(expected[4].contains(#""id":"ID""#) && expected[1].contains(#""type":"error""#))  // the script hits both paths
        // Six inputs fail their request checks before the append; the rest are entries.
        let inputs = Self.rulesScript.filter { RulesInput.types.contains($0["type"]!.stringValue!) }.count
        #expect(redis.command(["XLEN", "noex:{rules}:log"]) == ":\(inputs - 6)")
    }

    /// A procedure that writes the store and the rule engine.
    static let addItem: JSON = [
        "name": "add-item", "input": ["sku": ["type": "string"]],
        "steps": [
            ["action": "store.insert", "bucket": "items", "data": ["sku": "{{ input.sku }}", "name": "via procedure"], "as": "item"],
            ["action": "rules.setFact", "key": "added:{{ input.sku }}", "value": true],
            ["action": "store.count", "bucket": "items", "as": "n"],
        ],
    ]

    static let proceduresScript: [JSONObject] = [
        ["type": "procedures.register", "procedure": addItem],
        ["type": "procedures.register", "procedure": addItem],
        ["type": "procedures.register", "procedure": ["name": "bad", "steps": [["action": "nope"]]]],
        ["type": "procedures.register"],
        ["type": "procedures.call", "name": "add-item", "input": ["sku": "p1"]],
        ["type": "procedures.call", "name": "add-item", "input": ["sku": "p1"]],
        ["type": "procedures.call", "name": "add-item", "input": ["sku": 5]],
        ["type": "procedures.call", "name": "ghost"],
        ["type": "procedures.call"],
        ["type": "procedures.update", "name": "add-item", "updates": ["description": "adds"]],
        ["type": "procedures.update", "name": "ghost", "updates": [:]],
        ["type": "procedures.list"],
        ["type": "procedures.get", "name": "add-item"],
        ["type": "procedures.unregister", "name": "add-item"],
        ["type": "procedures.unregister", "name": "add-item"],
        ["type": "store.all", "bucket": "items"],
        ["type": "rules.getFact", "key": "added:p1"],
    ]

    /// Procedures go through the log (every node runs a call at its position) and are answered
    /// with the single server's bytes.
    @Test func aClusterNodeAnswersEveryProceduresRequestAsTheSingleServer() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        let single = WireRules.server { $0.store = wireStoreFixture() }
        defer { single.stop() }
        let node = Self.node(redis, "procs", rules: true)
        defer { node.stop() }
        #expect(node.startError == nil)
        let expected = try answers(port: single.port, script: Self.proceduresScript)
        let got = try answers(port: node.port, script: Self.proceduresScript)
        #expect(got.count == expected.count)
        for (i, (g, e)) in zip(got, expected).enumerated() {
            #expect(g == e, "request \(i + 1) \(JSON.object(Self.proceduresScript[i]).jsonString)")
        }
        #expect(expected[4].contains(#""success":true"#) && expected[15].contains(#""sku":"p1""#), "\(expected)")
        // Every write request is an entry (their checks run where the entry is applied).
        let writes = Self.proceduresScript.filter { ClusterProcedures.writes.contains($0["type"]!.stringValue!) }.count
        #expect(redis.command(["XLEN", "noex:{procs}:log"]) == ":\(writes)")
    }

    /// A call's steps are checked as the caller's session on every node; a `session` field the
    /// client adds to its request is not what the log carries.
    @Test func aCallsStepsAreCheckedAsTheCallersSessionInTheCluster() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        let endpoint = redis.endpoint
        let single = WireProcedures.authServer()
        defer { single.stop() }
        let node = WireProcedures.authServer { $0.cluster = ClusterConfig(redis: endpoint, name: "authprocs") }
        defer { node.stop() }
        #expect(node.startError == nil)
        let secretWrite: JSON = ["name": "leak", "steps": [["action": "store.insert", "bucket": "secret", "data": ["id": "s1"]]]]
        var answers: [[String]] = []
        for server in [single, node] {
            let admin = try WireProcedures.client(server, token: "admin")
            WireProcedures.register(admin, secretWrite)
            WireProcedures.register(admin, ["name": "ok", "steps": [["action": "store.insert", "bucket": "public", "data": ["id": "p1"]]]])
            let writer = try WireProcedures.client(server, token: "writer")
            answers.append([
                WireStoreClient.parse(writer.askRaw(["id": 6, "type": "procedures.call", "name": "ok"]))["data"]?["success"]?.jsonString ?? "?",
                writer.askRaw(["id": 7, "type": "procedures.call", "name": "leak",
                               "session": ["userId": "admin-1", "roles": ["admin"]]]) ?? "no answer",
                admin.askRaw(["id": 8, "type": "store.count", "bucket": "secret"]) ?? "no answer",
            ])
        }
        #expect(answers[0] == answers[1])
        #expect(answers[1] == ["true", answers[1][1], #"{"id":8,"type":"result","data":0}"#] && answers[1][1].contains(#""code":"FORBIDDEN""#),
                "\(answers)")
    }

    @Test func aNodeDoesNotStartWithoutRedis() {
        let port = RedisServer.freePort()
        let node = ServerThread {
            var c = ServerConfig(store: wireStoreFixture())
            var cluster = ClusterConfig(redis: RedisEndpoint(host: "127.0.0.1", port: port), name: "down")
            cluster.startupTimeoutMs = 300
            c.cluster = cluster
            return c
        }
        #expect(node.startError?.hasPrefix("cluster \"down\": could not catch up with the cluster log within 300 ms (Redis at redis://127.0.0.1:\(port):") == true,
                "\(node.startError ?? "started")")
    }

    @Test func ttlExpiryIsOneLoggedPurgeAppliedByEveryNode() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        let endpoint = redis.endpoint
        let nodes = (0..<2).map { _ in
            ServerThread {
                let store = Store(name: "ttl", ttlCheckIntervalMs: 100, nowMs: ServerClock.systemWallMs)
                try! store.defineBucket("tokens", config: ["key": "id", "ttl": 1500, "schema": ["id": ["type": "string"]]])
                var c = ServerConfig(store: store)
                c.cluster = ClusterConfig(redis: endpoint, name: "ttl")
                return c
            }
        }
        defer { for n in nodes { n.stop() } }
        let clients = try nodes.map { try WireStoreClient(port: $0.port) }
        #expect(clients[0].ask(["type": "store.insert", "bucket": "tokens", "data": ["id": "t1"]])["type"] == "result")
        // Node B shows it once it applied the entry (bounded wait), then both purge it.
        var seen = false
        let shown = Date().addingTimeInterval(1.2)
        while !seen, Date() < shown {
            seen = clients[1].data(["type": "store.count", "bucket": "tokens"]) == 1
            if !seen { usleep(10_000) }
        }
        #expect(seen)
        let deadline = Date().addingTimeInterval(6)
        while clients.contains(where: { $0.data(["type": "store.count", "bucket": "tokens"]) != 0 }), Date() < deadline { usleep(50_000) }
        #expect(clients.allSatisfy { $0.data(["type": "store.count", "bucket": "tokens"]) == 0 })
        // The purge is in the log (the insert plus at least one purgeExpired), decided by the
        // one node that holds the lease.
        #expect((redis.command(["XLEN", "noex:{ttl}:log"]).flatMap { Int($0.dropFirst()) } ?? 0) >= 2)
        #expect(redis.command(["EXISTS", "noex:{ttl}:purge-lease"]) == ":1")
    }

    /// A client that pipelines writes: each waits for its entry before the next request of the
    /// connection runs, and every answer comes back, in order.
    @Test func pipelinedWritesAreAnsweredInOrder() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        let node = Self.node(redis, "pipeline")
        defer { node.stop() }
        let c = try WireStoreClient(port: node.port)
        let count = 300
        var texts: [String] = []
        for i in 0..<count {
            texts.append(i % 3 == 2
                ? #"{"id":\#(i + 1),"type":"store.get","bucket":"items","key":"p\#(i - 1)"}"#
                : #"{"id":\#(i + 1),"type":"store.insert","bucket":"items","data":{"sku":"p\#(i)","name":"n"}}"#)
        }
        c.ws.sendTextsTogether(texts)
        for i in 0..<count {
            let answer = WireStoreClient.parse(c.ws.nextText())
            #expect(answer["id"] == .int(Int64(i + 1)) && answer["type"] == "result", "\(answer.jsonString)")
            if i % 3 == 2 { #expect(answer["data"]?["sku"] == .string("p\(i - 1)"), "a read does not see the write before it") }
            if answer["type"] != "result" { break }
        }
    }

    /// A new node whose log was trimmed past its start cannot replay it: it does not start, and
    /// says why.
    @Test func aNodeDoesNotStartWhenTheLogWasTrimmedPastIt() throws {
        let redis = try RedisServer()
        defer { redis.shutdown() }
        #expect(redis.command(["XADD", "noex:{gap}:log", "7-1", "c", "{}"]) == "$3")
        #expect(redis.command(["SET", "noex:{gap}:trimmed", "5-0"]) == "+OK")
        let node = Self.node(redis, "gap")
        defer { node.stop() }
        #expect(node.startError == "cluster \"gap\": the cluster log no longer holds the entries after 0-0 (trimmed up to 5-0) and Redis held no snapshot at or past that point when this node started: this node cannot catch up; start it again once the cluster stored a snapshot (docs/cluster.md#trimming-and-bootstrap)",
                "\(node.startError ?? "started")")
        // The entry it published while trying leaves with it: it holds neither trimming nor
        // flow control back.
        #expect(redis.command(["HLEN", "noex:{gap}:nodes"]) == ":0")
    }
}
