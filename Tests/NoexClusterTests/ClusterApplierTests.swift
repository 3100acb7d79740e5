import CUV
import Foundation
import NoexCluster
import NoexJSON
import NoexPersistence
import NoexStore
import Testing

/// Deterministic application without Redis: stores with different clocks and random sources
/// fed the same entries end byte-identical, with the same outcome for every entry.
struct ClusterApplierTests {
    /// A node's store: its own clock (offset, ticking) and its own random source.
    static func node(_ i: Int) -> ClusterApplier {
        var t: Int64 = 1_700_000_000_000 + Int64(i) * 7_919
        let store = Store(name: "n\(i)", nowMs: { t += 13; return t }, random: SeededRandom(seed: UInt64(i) &* 1_000_003))
        return ClusterApplier(store: store)
    }

    static let schema: [ClusterOperation] = [
        .defineBucket(name: "users", config: [
            "key": "id",
            "schema": ["id": ["type": "string", "generated": "uuid"], "email": ["type": "string", "unique": true],
                       "tag": ["type": "string", "generated": "cuid"], "seen": ["type": "number", "generated": "timestamp"],
                       "n": ["type": "number"]],
        ]),
        .defineBucket(name: "seq", config: ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"], "v": ["type": "number"]],
                                            "maxSize": 5]),
        .defineBucket(name: "ttl", config: ["key": "k", "schema": ["k": ["type": "string"]], "ttl": 1000]),
        .defineQuery(name: "byEmail", config: ["bucket": "users", "sort": ["email": "asc"], "pluck": "email"]),
    ]

    /// Feeds `ops` (each decided by a different origin with that origin's clock) to every node.
    static func feed(_ nodes: [ClusterApplier], _ ops: [ClusterOperation], startID: UInt64 = 1) -> [[ClusterOutcome?]] {
        var random = SeededRandom(seed: 42)
        var outcomes = Array(repeating: [ClusterOutcome?](), count: nodes.count)
        for (i, op) in ops.enumerated() {
            let origin = i % nodes.count
            let entry = ClusterCommand.decide(op, origin: "n\(origin)", request: UInt64(i), nowMs: 1_700_000_000_000 + Int64(i * 97 % 500),
                                              random: &random).json
            for (n, node) in nodes.enumerated() {
                outcomes[n].append(node.apply(id: StreamID(ms: startID + UInt64(i), seq: 0), entry: entry))
            }
        }
        return outcomes
    }

    @Test func commandsRoundTripThroughJSON() throws {
        let ops: [ClusterOperation] = Self.schema + [
            .insert(bucket: "users", data: ["email": "a"]),
            .update(bucket: "users", key: "k", data: ["n": 1], expectedVersion: 3),
            .update(bucket: "users", key: 7, data: [:], expectedVersion: nil),
            .delete(bucket: "users", key: "k", expectedVersion: 1), .delete(bucket: "users", key: "k", expectedVersion: nil),
            .clear(bucket: "seq"), .transaction(operations: [["op": "insert", "bucket": "seq", "data": ["v": 1]]]),
            .dropBucket(name: "x"), .updateBucket(name: "users", updates: ["addIndexes": ["n"]]), .undefineQuery(name: "q"),
            .purgeExpired, .custom(name: "rules.setFact", args: ["key": "k", "value": .null]),
        ]
        for op in ops {
            let c = ClusterCommand(origin: "a", request: .max, atMs: -5, seed: (.max, 1), operation: op)
            let text = c.json.serializedBytes
            #expect(try ClusterCommand(json: try JSON.parse(text)) == c)
        }
    }

    @Test func malformedEntriesAreSkippedAlikeOnEveryNode() {
        let nodes = [Self.node(0), Self.node(1)]
        let good = ClusterCommand(origin: "a", request: 1, atMs: 5, seed: (1, 2), operation: .clear(bucket: "b")).json.objectValue!
        var noSeed = good; noSeed["seed"] = "xyz"
        var noBucket = good; noBucket["bucket"] = nil
        let entries: [JSON] = [.object(noSeed), .object(noBucket), "text", ["op": "insert"]]
        for (i, e) in entries.enumerated() {
            let outcomes = nodes.map { $0.apply(id: StreamID(ms: UInt64(i + 1), seq: 0), entry: e) }
            guard case .invalid(let why)? = outcomes[0] else { Issue.record("entry \(i) must be invalid"); continue }
            #expect(outcomes[1] == outcomes[0])
            #expect(!why.isEmpty)
        }
        #expect(nodes[0].position.lastID == StreamID(ms: 4, seq: 0))  // skipped, but passed
        #expect(nodes[0].haltReason == nil)
    }

    /// An entry of a newer node (newer format version, unknown operation or `ext` name) is not skipped: the
    /// node stops before it, names it, and applies nothing after it.
    @Test func anEntryOfANewerNodeHaltsTheNodeBeforeIt() {
        let good = ClusterCommand(origin: "a", request: 1, atMs: 5, seed: (1, 2), operation: .clear(bucket: "b")).json.objectValue!
        var newer = good; newer["v"] = 2
        var unknown = good; unknown["op"] = "teleport"
        #expect(ClusterCommand.formatVersion == 1)
        let unknownExt = ClusterCommand(origin: "a", request: 2, atMs: 5, seed: (1, 2), operation: .custom(name: "x.new", args: [:])).json.objectValue!
        for (e, words) in [(newer, ["format version 2", "upgrade this node"]), (unknown, ["teleport", "upgrade this node"]),
                           (unknownExt, ["\"x.new\"", "upgrade this node"])] {
            let node = Self.node(0)
            #expect(node.apply(id: StreamID(ms: 1, seq: 0), entry: .object(good)) != nil)
            #expect(node.apply(id: StreamID(ms: 2, seq: 0), entry: .object(e)) == nil)
            let why = node.haltReason ?? ""
            #expect(words.allSatisfy(why.contains) && why.contains("2-0"), "\(why)")
            #expect(node.position.lastID == StreamID(ms: 1, seq: 0))  // stopped before it
            #expect(node.apply(id: StreamID(ms: 3, seq: 0), entry: .object(good)) == nil)
            #expect(node.position.lastID == StreamID(ms: 1, seq: 0))
        }
    }

    @Test func differentClocksAndRandomsEndByteIdentical() throws {
        let nodes = (0..<3).map(Self.node)
        var ops = Self.schema
        for i in 0..<40 {
            ops.append(.insert(bucket: "users", data: ["email": .string("u\(i % 30)@x"), "n": .int(Int64(i))]))  // 10 unique violations
            ops.append(.insert(bucket: "seq", data: ["v": .int(Int64(i))]))  // maxSize evicts
            ops.append(.insert(bucket: "ttl", data: ["k": .string("t\(i)")]))
        }
        ops.append(.transaction(operations: [
            ["op": "insert", "bucket": "users", "data": ["email": "tx@x"]], ["op": "insert", "bucket": "seq", "data": ["v": 99]],
            ["op": "count", "bucket": "users"],
        ]))
        ops.append(.updateBucket(name: "users", updates: ["addFields": ["extra": ["type": "string", "default": "d"]]]))
        ops.append(.purgeExpired)
        ops.append(.clear(bucket: "seq"))
        ops.append(.insert(bucket: "seq", data: ["v": 1]))
        let outcomes = Self.feed(nodes, ops)
        #expect(outcomes[1] == outcomes[0] && outcomes[2] == outcomes[0])
        let rejected = outcomes[0].filter { if case .rejected(.uniqueConstraint)? = $0 { true } else { false } }
        #expect(rejected.count == 10)
        let digests = nodes.map { digest($0.store, $0.position) }
        #expect(digests[1] == digests[0] && digests[2] == digests[0])
        // The decided values really were generated (not absent) and the clocks really differ.
        let users = try nodes[0].store.all(bucket: "users")
        #expect(users.allSatisfy { $0["id"]?.stringValue?.count == 36 && $0["tag"]?.stringValue?.count == 33 && $0["seen"] != nil })
        #expect(try nodes[0].store.all(bucket: "seq").map { $0["id"]! } == [.int(42)])  // 40 + 1 in the transaction; clear keeps the counter
        #expect(nodes[0].store.bucketNames == ["users", "seq", "ttl"])
    }

    @Test func clusterTimeNeverGoesBackwards() throws {
        let a = Self.node(0)
        var r = SeededRandom(seed: 1)
        _ = a.apply(id: StreamID(ms: 1, seq: 0), entry: ClusterCommand.decide(Self.schema[1], origin: "x", request: 1, nowMs: 500, random: &r).json)
        _ = a.apply(id: StreamID(ms: 2, seq: 0), entry: ClusterCommand.decide(.insert(bucket: "seq", data: ["v": 1]), origin: "x", request: 2, nowMs: 9_000, random: &r).json)
        // An origin whose clock is behind: its write is stamped with the cluster time instead.
        let late = a.apply(id: StreamID(ms: 3, seq: 0), entry: ClusterCommand.decide(.update(bucket: "seq", key: 1, data: ["v": 2], expectedVersion: 1),
                                                                                  origin: "y", request: 1, nowMs: 100, random: &r).json)
        guard case .applied(let rec)? = late else { Issue.record("update must apply"); return }
        #expect(rec["_createdAt"] == .int(9_000) && rec["_updatedAt"] == .int(9_000))
        #expect(a.position == ClusterPosition(lastID: StreamID(ms: 3, seq: 0), timeMs: 9_000))
        // Entries at or below the position are skipped (a reader re-delivering after a reconnect).
        #expect(a.apply(id: StreamID(ms: 3, seq: 0), entry: ClusterCommand.decide(.clear(bucket: "seq"), origin: "y", request: 2, nowMs: 1, random: &r).json) == nil)
        #expect(try a.store.count(bucket: "seq") == 1)
        // Outside an application the store reads its own clock again.
        let own = try a.store.insert(bucket: "seq", record: ["v": 3])
        #expect(own["_createdAt"]!.intValue! > 1_700_000_000_000)
    }

    @Test func expectedVersionRaceHasOneWinnerEverywhere() throws {
        let nodes = (0..<4).map(Self.node)
        _ = Self.feed(nodes, Self.schema + [.insert(bucket: "seq", data: ["v": 0])])
        // Every node read version 1 and sends its update; the log orders them.
        let race: [ClusterOperation] = (0..<4).map { .update(bucket: "seq", key: 1, data: ["v": .int(Int64($0 + 1))], expectedVersion: 1) }
        let outcomes = Self.feed(nodes, race, startID: 100)
        for o in outcomes { #expect(o == outcomes[0]) }
        let wins = outcomes[0].filter { if case .applied? = $0 { true } else { false } }
        let conflicts = outcomes[0].filter { if case .rejected(.versionConflict)? = $0 { true } else { false } }
        #expect(wins.count == 1 && conflicts.count == 3)
        #expect(try nodes.map { try $0.store.get(bucket: "seq", key: 1)!["v"]! } == Array(repeating: .int(1), count: 4))
    }

    @Test func snapshotBootstrapsANewNode() throws {
        let a = Self.node(0)
        var ops = Self.schema
        for i in 0..<10 { ops.append(.insert(bucket: "users", data: ["email": .string("s\(i)")])) }
        ops.append(.insert(bucket: "seq", data: ["v": 1]))
        ops.append(.delete(bucket: "seq", key: 1, expectedVersion: nil))
        _ = Self.feed([a], ops)
        let snapshot = ClusterSnapshot.capture(a.store, at: a.position)
        // Through its bytes, as it would travel.
        let b = ClusterApplier(store: Store(nowMs: { 0 }))
        let pos = try ClusterSnapshot.restore(try JSON.parse(snapshot.serializedBytes), into: b.store)
        let c = ClusterApplier(store: b.store, position: pos)
        #expect(digest(c.store, c.position) == digest(a.store, a.position))
        #expect(c.store.autoincrementCounter(bucket: "seq") == 1)
        #expect(try c.store.runQuery("byEmail") == (try a.store.runQuery("byEmail")))
        // Both continue identically (the counter came along: the next id is 2 on both).
        let more: [ClusterOperation] = [.insert(bucket: "seq", data: ["v": 2]), .insert(bucket: "users", data: ["email": "s1"])]
        let o = Self.feed([a, c], more, startID: 1000)
        #expect(o[0] == o[1])
        #expect(digest(c.store, c.position) == digest(a.store, a.position))
        #expect(try c.store.get(bucket: "seq", key: 2) != nil)
        #expect(throws: ClusterCommandError.self) { try ClusterSnapshot.restore(snapshot, into: a.store) }  // not empty
        #expect(throws: ClusterCommandError.self) { try ClusterSnapshot.restore(["format": "other"], into: Store(nowMs: { 0 })) }
    }

    /// The extension point: a `.custom` entry reaches the handler installed for its name, inside
    /// the entry's pinned decisions (the same time and seed on every node whatever its clock);
    /// a handler's error is the outcome.
    @Test func customOperationsReachTheirHandlerWithTheEntrysDecisions() throws {
        let nodes = [Self.node(0), Self.node(1)]
        var seen: [[String]] = [[], []]
        for (i, node) in nodes.enumerated() {
            node.handle(["x.echo", "x.fail"]) { name, args, now in
                seen[i].append("\(name) \(JSON.object(args).jsonString) at \(now)")
                return name == "x.fail" ? .failed(code: "NOT_FOUND", message: "no \(args["k"]?.stringValue ?? "")", details: ["k": args["k"] ?? .null])
                    : .applied(["echo": .object(args)])
            }
            node.decisionScope = { now, seed, apply in
                seen[i].append("scope at \(now) seed \(seed.0 % 1000)")
                return apply()
            }
        }
        let outcomes = Self.feed(nodes, [
            .custom(name: "x.echo", args: ["k": "a"]), .custom(name: "x.fail", args: ["k": "b"]),
            .clear(bucket: "none"),
        ])
        #expect(outcomes[0] == outcomes[1])
        #expect(outcomes[0][1] == .failed(code: "NOT_FOUND", message: "no b", details: ["k": "b"]))
        if case .rejected = outcomes[0][2] {} else { Issue.record("a store entry still applies: \(String(describing: outcomes[0][2]))") }
        #expect(seen[0] == seen[1] && seen[0].count == 5, "\(seen)")  // a scope per entry (3), a call per handled entry (2)
        #expect(nodes[0].position == nodes[1].position)
    }

    /// Version 2 carries members from outside the store; version 1 (without them) still loads.
    @Test func snapshotsCarryExtensionsAndVersionOneStillLoads() throws {
        let a = Self.node(0)
        _ = Self.feed([a], Self.schema + [.insert(bucket: "users", data: ["email": "e"])])
        let snapshot = ClusterSnapshot.capture(a.store, at: a.position, extensions: ["rules": ["facts": []], "buckets": "ignored"])
        #expect(snapshot["version"] == 2 && snapshot["rules"] == ["facts": []])
        #expect(snapshot["buckets"]?.arrayValue?.count == 3)  // an extension never replaces a store member
        var v1 = snapshot.objectValue!
        v1["version"] = 1
        v1["rules"] = nil
        let b = Store(nowMs: { 0 })
        let pos = try ClusterSnapshot.restore(.object(v1), into: b)
        #expect(digest(b, pos) == digest(a.store, a.position))
        var v3 = v1
        v3["version"] = 3
        #expect(throws: ClusterCommandError.self) { try ClusterSnapshot.restore(.object(v3), into: Store(nowMs: { 0 })) }
    }

    @Test func durablePositionIsCommittedWithTheData() throws {
        let dir = makeTemporaryDirectory("noex-cluster")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/node.db"
        let loop = TestLoop()
        defer { loop.close() }
        var expected: ClusterPosition?
        do {
            let applier = Self.node(0)
            let durable = try DurableStore(path: path, policy: .no, store: applier.store, loop: loop.loop)
            #expect(try durable.storedClusterPosition() == nil)
            applier.journal = durable
            applier.onPosition = { durable.clusterPosition = $0.text }
            // Records applied, then a schema entry: the schema commit carries the records and the
            // position of the entry before it, in one transaction.
            _ = Self.feed([applier], [Self.schema[1], .insert(bucket: "seq", data: ["v": 1]), .insert(bucket: "seq", data: ["v": 2]), Self.schema[2]])
            #expect(!durable.hasPending)
            #expect(try durable.storedClusterPosition() == applier.position.text)
            #expect(applier.position.lastID == StreamID(ms: 4, seq: 0))
            // A record entry: position and record wait for the group commit together.
            _ = Self.feed([applier], [.insert(bucket: "ttl", data: ["k": "x"])], startID: 5)
            #expect(durable.hasPending)
            #expect(try durable.storedClusterPosition() != applier.position.text)
            var committed = false
            durable.commitPending { #expect($0?.message == nil); committed = true }
            #expect(committed)
            #expect(try durable.storedClusterPosition() == applier.position.text)
            // Only the position moved (an entry that changed nothing, e.g. a rejected one): still committed.
            _ = Self.feed([applier], [.delete(bucket: "seq", key: 99, expectedVersion: 1)], startID: 6)
            #expect(durable.hasPending)
            durable.commitPending { _ in }
            #expect(try durable.storedClusterPosition() == applier.position.text)
            expected = applier.position
            durable.finish()
        }
        // The restart: the same data and the position to resume after.
        let store = Store(nowMs: { 0 })
        let reopened = try DurableStore(path: path, policy: .no, store: store, loop: loop.loop)
        let position = try #require(try reopened.storedClusterPosition().flatMap(ClusterPosition.init(text:)))
        #expect(position == expected)
        #expect(try store.count(bucket: "seq") == 2 && store.hasBucket("ttl") && (try store.count(bucket: "ttl")) == 1)
        reopened.finish()
    }
}

/// A journal whose commits fail, as a full disk makes `DurableStore`'s fail.
final class FailingJournal: SchemaJournal {
    func bucketDefined(_ name: String, config: JSONObject) throws(PersistenceError) { throw PersistenceError("disk full") }
    func bucketUpdated(_ name: String, config: JSONObject) throws(PersistenceError) { throw PersistenceError("disk full") }
    func bucketDropped(_ name: String) throws(PersistenceError) { throw PersistenceError("disk full") }
    func ruleChanged(_ id: String, _ rule: JSON?) throws(PersistenceError) { throw PersistenceError("disk full") }
    func queryDefined(_ name: String, config: JSONObject?) throws(PersistenceError) { throw PersistenceError("disk full") }
}

extension ClusterApplierTests {
    @Test func aFailedSchemaCommitHaltsTheNodeAtItsLastPosition() {
        let a = Self.node(0)
        var positions: [ClusterPosition] = []
        a.onPosition = { positions.append($0) }
        _ = Self.feed([a], [Self.schema[1], .insert(bucket: "seq", data: ["v": 1])])
        let before = a.position
        let journal = FailingJournal()
        a.journal = journal
        let outcome = Self.feed([a], [Self.schema[2]], startID: 10)[0][0]
        guard case .rejected(.invalidDefinition(let why))? = outcome else { Issue.record("must be rejected: \(String(describing: outcome))"); return }
        #expect(why.contains("disk full") && why.contains("restart"))
        #expect(a.haltReason != nil)
        #expect(!a.store.hasBucket("ttl"))  // undone in memory
        #expect(a.position == before && positions.last == before)  // the stored position goes back too
        // Nothing more is applied until the node restarts from its stored position.
        a.journal = nil
        #expect(Self.feed([a], [.insert(bucket: "seq", data: ["v": 2])], startID: 11)[0] == [nil])
        #expect((try? a.store.count(bucket: "seq")) == 1)
    }
}
