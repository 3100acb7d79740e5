import NoexJSON
import NoexPersistence
import NoexRules
import NoexStore
import Testing
@testable import NoexServer

/// Cluster mode on sqlite: the `meta` row with the rule engine's timers, rule order and next
/// rule version goes with a commit of the position only when it changed since it was last
/// committed — and is then exactly the engine's state, in the same transaction.
@Suite struct ClusterMetaCommitTests {
    @Test func theRuleStateRowIsWrittenOnlyWhenItChanged() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let privateLoop = PrivateLoop()
        defer { privateLoop.close() }
        let loop = privateLoop.loop
        let key = "cluster_rule_timers"
        let path = dir.file("node.db")
        let clock = ManualRulesClock()
        var expected = ""
        do {
            let engine = RuleEngine(clock: clock)
            let store = Store(nowMs: { 0 })  // the durable store holds it unowned
            let durable = try DurableStore(path: path, policy: .no, store: store, rules: engine, loop: loop)
            var built = 0
            durable.clusterMeta = { built += 1; return [(key, engine.timersAndCounters().jsonString)] }
            durable.clusterMetaStamp = { engine.timersAndCountersStamp }
            func commit(_ position: String) {
                durable.clusterPosition = position
                var done = false
                var failure: String?
                durable.commitPending { failure = $0?.message; done = true }
                #expect(done && failure == nil, "commit at \(position) failed: \(failure ?? "")")
                #expect(try! durable.storedClusterPosition() == position)
            }
            commit("1-0")
            #expect(built == 1)
            #expect(try durable.storedMeta(key) == engine.timersAndCounters().jsonString)
            // Facts and positions only: the row is neither built nor written again.
            for n in 2...5 {
                _ = try engine.setFact(key: "k\(n)", value: .int(Int64(n)))
                commit("\(n)-0")
            }
            #expect(built == 1)
            // A rule (order and counter), a timer, a timer firing: written with the next position.
            try engine.registerRule(["id": "r", "name": "r", "trigger": ["type": "event", "topic": "t"]])
            commit("6-0")
            #expect(built == 2)
            #expect(try durable.storedMeta(key) == engine.timersAndCounters().jsonString)
            try engine.setTimer(["name": "tm", "duration": 1000, "onExpire": ["topic": "x"], "repeat": ["interval": 1000]])
            commit("7-0")
            #expect(built == 3)
            clock.advance(byMs: 1000)
            #expect(engine.fireDueTimers() == 1)
            commit("8-0")
            #expect(built == 4)
            commit("9-0")
            #expect(built == 4)
            expected = engine.timersAndCounters().jsonString
            #expect(expected.contains("\"firedCount\":1"))
            durable.close()
        }
        // What a restart (also after kill -9: every commit above is a finished transaction) reads.
        let store = Store(nowMs: { 0 })
        let reopened = try DurableStore(path: path, policy: .no, store: store, loop: loop)
        defer { reopened.close() }
        #expect(try reopened.storedMeta(key) == expected)
        #expect(try reopened.storedClusterPosition() == "9-0")
    }
}
