// The cluster foundation's log path in one process (docs/cluster.md): N simulated nodes on one
// libuv loop, each with its own reader connection and store, against a running redis-server.
// One writer appends W inserts (at most `--window` in flight); every node applies every entry.
// Prints one line per figure. All nodes share this one thread, so the figures are a floor for
// what separate processes reach.
//
// With `--rate R` the writes are paced at R per second (from a 1 ms loop timer) instead of
// kept `--window` deep: the latency is then the replication lag at that load, not a queue.
//
//   cluster-bench --port P [--nodes N] [--writes W] [--window K] [--rate R]
import CUV
import NoexCluster
import NoexJSON
import NoexStore

var port = 6379, nodeCount = 2, writes = 20_000, window = 256, rate = 0
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    guard let v = args.popFirst(), let n = Int(v), n > 0 else { fatalError("usage: cluster-bench --port P [--nodes N] [--writes W] [--window K] [--rate R]") }
    switch a {
    case "--port": port = n
    case "--nodes": nodeCount = n
    case "--writes": writes = n
    case "--window": window = n
    case "--rate": rate = n
    default: fatalError("unknown option \(a)")
    }
}

let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
precondition(uv_loop_init(loop) == 0)
let endpoint = RedisEndpoint(host: "127.0.0.1", port: port)
let cluster = "bench-\(uv_hrtime())"
func nowUs() -> UInt64 { uv_hrtime() / 1000 }

/// Submit time of each request (by its serial), and every node's apply lag.
var submitted = [UInt64](repeating: 0, count: writes + 2)
var lags: [UInt64] = []
lags.reserveCapacity(writes * nodeCount)
var appliedCount = [Int](repeating: 0, count: nodeCount)
var readers: [ClusterLogReader] = []
var appliers: [ClusterApplier] = []
for i in 0..<nodeCount {
    let applier = ClusterApplier(store: Store(name: "n\(i)", nowMs: { 0 }))
    let reader = ClusterLogReader(cluster: cluster, connection: RedisConnection(loop: loop, endpoint: endpoint), from: .zero)
    reader.onEntry = { id, entry in
        guard let entry, applier.apply(id: id, entry: entry) != nil else { return }
        if let req = entry["req"]?.stringValue.flatMap({ Int($0) }), req > 0 { lags.append(nowUs() - submitted[req]) }
        appliedCount[i] += 1
    }
    reader.start()
    readers.append(reader)
    appliers.append(applier)
}

let log = ClusterLog(cluster: cluster, connection: RedisConnection(loop: loop, endpoint: endpoint))
log.connection.start()
var random = SystemRandomNumberGenerator()
var sent = 0, acked = 0, failures = 0
@MainActor func submit(_ op: ClusterOperation, request: Int) {
    submitted[request] = nowUs()
    let c = ClusterCommand.decide(op, origin: "w", request: UInt64(request), nowMs: 1_700_000_000_000 + Int64(request), random: &random)
    log.append(c) { r in
        if case .failure = r { failures += 1 }
        acked += 1
        pump()
    }
}
/// Paced mode: how many writes the elapsed time allows so far.
var allowed: Int { rate == 0 ? writes : min(writes, Int(Double(nowUs() - start) * Double(rate) / 1e6) + 1) }
@MainActor func pump() {
    while sent < writes && sent - acked < window && sent < allowed {
        sent += 1
        submit(.insert(bucket: "items", data: ["name": .string("item \(sent)"), "n": .int(Int64(sent))]), request: sent)
    }
}

@MainActor func run(until done: () -> Bool) {
    while !done() { uv_run(loop, UV_RUN_ONCE) }
}

// The bucket first (request 0 is not timed), then the timed writes.
submitted[0] = nowUs()
log.append(ClusterCommand.decide(.defineBucket(name: "items", config: ["key": "id", "schema": ["id": ["type": "string", "generated": "uuid"], "name": ["type": "string"], "n": ["type": "number"]]]),
                                 origin: "w", request: 0, nowMs: 1_700_000_000_000, random: &random)) { _ in }
run { appliedCount.allSatisfy { $0 == 1 } }
var start = nowUs()
let pacer = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
uv_timer_init(loop, pacer)
start = nowUs()
if rate > 0 { uv_timer_start(pacer, { _ in MainActor.assumeIsolated { pump() } }, 1, 1) }
pump()
run { acked == writes }
uv_timer_stop(pacer)
let appendedUs = nowUs() - start
run { appliedCount.allSatisfy { $0 == writes + 1 } }
let appliedUs = nowUs() - start

lags.sort()
@MainActor func pct(_ p: Double) -> Double { Double(lags[min(lags.count - 1, Int(Double(lags.count) * p))]) / 1000 }
print("cluster.nodes: \(nodeCount)")
print("cluster.offered_writes_per_s: \(rate == 0 ? "unpaced" : String(rate))")
print("cluster.append_failures: \(failures)")
print("cluster.appends_per_s: \(Int(Double(writes) / (Double(appendedUs) / 1e6)))")
print("cluster.applied_everywhere_per_s: \(Int(Double(writes) / (Double(appliedUs) / 1e6)))")
print("cluster.append_to_apply_p50_ms: \(pct(0.5))")
print("cluster.append_to_apply_p99_ms: \(pct(0.99))")
let d = appliers.map { String(decoding: ClusterSnapshot.capture($0.store, at: $0.position).serializedBytes, as: UTF8.self) }
print("cluster.nodes_identical: \(d.allSatisfy { $0 == d[0] })")
var cleared = false
log.connection.send(["DEL", ClusterLog.streamKey(cluster: cluster)]) { _ in cleared = true }
run { cleared }
for r in readers { r.stop(); r.connection.close() }
log.connection.close()
