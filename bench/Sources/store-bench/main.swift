// In-process NoexStore benchmark. Every figure is one line `name: value unit`.
// All loops have fixed, small counts, so a run takes a few seconds at most.
import NoexJSON
import NoexStore

var fakeNow: Int64 = 1_700_000_000_000
let store = Store(name: "bench", ttlCheckIntervalMs: 0, nowMs: { fakeNow }, random: SeededRandom(seed: 1))
let clock = ContinuousClock()

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// Runs `body` `count` times and prints ops/s and µs/op.
func measure(_ name: String, _ count: Int, _ body: (Int) throws -> Void) rethrows {
    let start = clock.now
    for i in 0..<count { try body(i) }
    let s = seconds(start.duration(to: clock.now))
    let opsPerSec = Double(count) / s
    print("\(name)_throughput: \(Int(opsPerSec)) ops/s")
    print("\(name)_latency: \(Int(s / Double(count) * 1e9)) ns/op")
}

do {
    // ---- CRUD on a uuid-keyed bucket (10,000 records)
    try store.defineBucket("crud", config: [
        "key": "id", "schema": ["id": ["type": "string", "generated": "uuid"], "name": ["type": "string", "required": true], "value": ["type": "number"]],
    ])
    var keys: [JSON] = []
    keys.reserveCapacity(10_000)
    try measure("insert", 10_000) { i in
        keys.append(try store.insert(bucket: "crud", record: ["name": .string("item-\(i)"), "value": .int(Int64(i))])["id"]!)
    }
    var hits = 0
    try measure("get", 10_000) { i in if try store.get(bucket: "crud", key: keys[i]) != nil { hits += 1 } }
    try measure("update", 10_000) { i in _ = try store.update(bucket: "crud", key: keys[i], changes: ["value": .int(Int64(i + 1))]) }
    try measure("delete", 10_000) { i in try store.delete(bucket: "crud", key: keys[i]) }

    // ---- queries over 1,000 records: `tier` indexed (4 values), `age` not indexed
    try store.defineBucket("people", config: [
        "key": "id",
        "schema": ["id": ["type": "number", "generated": "autoincrement"], "tier": ["type": "string"], "age": ["type": "number"],
                   "tier2": ["type": "string"]],
        "indexes": ["tier"],
    ])
    let tiers: [JSON] = ["basic", "silver", "gold", "vip"]
    for i in 0..<1000 {
        _ = try store.insert(bucket: "people", record: ["tier": tiers[i % 4], "tier2": tiers[i % 4], "age": .int(Int64(18 + i % 60))])
    }
    var total = 0
    try measure("where_indexed_1k", 1000) { i in total += try store.where(bucket: "people", filter: ["tier": tiers[i % 4]]).count }
    try measure("where_scan_1k", 1000) { i in total += try store.where(bucket: "people", filter: ["tier2": tiers[i % 4]]).count }
    try measure("where_operator_scan_1k", 1000) { _ in total += try store.where(bucket: "people", filter: ["age": ["$gte": 30, "$lt": 40]]).count }
    try measure("count_indexed_1k", 1000) { i in total += try store.count(bucket: "people", filter: ["tier": tiers[i % 4]]) }
    try measure("sum_1k", 1000) { _ in _ = try store.sum(bucket: "people", field: "age") }
    try measure("first10_1k", 1000) { _ in total += try store.first(bucket: "people", n: 10).count }
    try measure("paginate10_1k", 1000) { i in total += try store.paginate(bucket: "people", after: .int(Int64(i % 900 + 1)), limit: 10).records.count }

    // ---- reactive: 1,000 subscriptions
    // (a) record-level: 1,000 `get` subscriptions on distinct keys; each update re-evaluates one.
    try store.defineQuery("person", config: ["bucket": "people", "get": ["$param": "id"]])
    var pushes = 0
    for i in 1...1000 { _ = try store.subscribe(query: "person", params: ["id": .int(Int64(i))]) { _ in pushes += 1 } }
    try measure("update_with_1k_record_subs", 2000) { i in
        _ = try store.update(bucket: "people", key: .int(Int64(i % 1000 + 1)), changes: ["age": .int(Int64(i))])
    }
    print("record_subs_pushes: \(pushes) pushes")
    // (b) bucket-level: 1,000 count subscriptions (one per tier param) on a separate bucket;
    //     each insert re-evaluates all 1,000 (indexed count), ~1/4 of them change.
    try store.defineBucket("events", config: [
        "key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"], "kind": ["type": "string"]], "indexes": ["kind"],
    ])
    try store.defineQuery("kindCount", config: ["bucket": "events", "filter": ["kind": "{{ params.kind }}"], "aggregate": ["fn": "count"]])
    pushes = 0
    for i in 0..<1000 { _ = try store.subscribe(query: "kindCount", params: ["kind": .string("k\(i)")]) { _ in pushes += 1 } }
    try measure("insert_with_1k_bucket_subs", 200) { i in _ = try store.insert(bucket: "events", record: ["kind": .string("k\(i % 1000)")]) }
    print("bucket_subs_pushes: \(pushes) pushes")
    if total == 0 || hits != 10_000 { print("sanity: failed") }
} catch {
    print("store-bench failed: \(error)")
}
