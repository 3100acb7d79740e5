// What the cluster's rule-state `meta` row costs a group commit on sqlite (docs/cluster.md,
// rule timers): COMMITS commits of one fact and a new position each, with TIMERS pending rule
// timers, the row written with every position (`every_commit`, as before the change stamp) and
// only when the timers, rule order or next version changed (`when_changed`, what the server
// does). Bounded by the commit count. Usage: cluster-meta-bench [commits] [timers]
import CUV
import Foundation
import NoexJSON
import NoexPersistence
import NoexRules
import NoexStore

let args = CommandLine.arguments
let commits = args.count > 1 ? Int(args[1]) ?? 2_000 : 2_000
let timerCount = args.count > 2 ? Int(args[2]) ?? 10_000 : 10_000

let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
precondition(uv_loop_init(loop) == 0)
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-meta-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: dir) }

/// Microseconds per commit, and the bytes of the row.
@MainActor func run(stamped: Bool, name: String) throws -> (usPerCommit: Double, rowBytes: Int) {
    let engine = RuleEngine(clock: ManualRulesClock())
    for i in 0..<timerCount {
        try engine.setTimer(["name": .string("t\(i)"), "duration": .int(3_600_000 + Int64(i)), "onExpire": ["topic": "x"]])
    }
    let store = Store(nowMs: { 0 })
    let durable = try DurableStore(path: dir + "/\(name).db", policy: .no, store: store, rules: engine, loop: loop)
    defer { durable.close() }
    var rowBytes = 0
    durable.clusterMeta = {
        let row = engine.timersAndCounters().jsonString
        rowBytes = row.utf8.count
        return [("cluster_rule_timers", row)]
    }
    if stamped { durable.clusterMetaStamp = { engine.timersAndCountersStamp } }
    let start = uv_hrtime()
    for n in 1...commits {
        _ = try engine.setFact(key: "k\(n % 100)", value: .int(Int64(n)))
        durable.clusterPosition = "\(n)-0"
        var failure: PersistenceError?
        durable.commitPending { failure = $0 }
        if let failure { throw failure }
    }
    return (Double(uv_hrtime() - start) / 1e3 / Double(commits), rowBytes)
}

let every = try run(stamped: false, name: "every")
let changed = try run(stamped: true, name: "changed")
print("cluster_meta.timers_\(timerCount).row_bytes: \(every.rowBytes)")
print("cluster_meta.timers_\(timerCount).every_commit.us_per_commit: \(String(format: "%.1f", every.usPerCommit))")
print("cluster_meta.timers_\(timerCount).when_changed.us_per_commit: \(String(format: "%.1f", changed.usPerCommit))")
