// In-process NoexStore benchmark. Every figure is one line `name: value unit`.
// All loops have fixed, small counts, so a run takes a few seconds at most.
#if canImport(Glibc)
import Glibc
#endif
import NoexJSON
import NoexStore

// The server runs without malloc's fastbins (`noex_disable_malloc_fastbins` in Sources/CUV/shim.h):
// so does this benchmark, through glibc's tunable of the same setting, which must be in the
// environment when the process starts. Without it, the first large allocation after a mass
// delete merges every freed block first (35 ms at half a million records).
if getenv("GLIBC_TUNABLES") == nil {
    setenv("GLIBC_TUNABLES", "glibc.malloc.mxfast=0", 1)
    execv("/proc/self/exe", CommandLine.unsafeArgv)
}

var fakeNow: Int64 = 1_700_000_000_000
let store = Store(name: "bench", ttlCheckIntervalMs: 0, nowMs: { fakeNow }, random: SeededRandom(seed: 1))

/// Process CPU time in seconds: stable on a shared machine, unlike wall time.
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The process's peak resident memory so far.
func peakRSSKiB() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss
}

/// Runs `body` `count` times and prints ops/s and ns/op, measured in process CPU time.
func measure(_ name: String, _ count: Int, _ body: (Int) throws -> Void) rethrows {
    let start = cpuSeconds()
    for i in 0..<count { try body(i) }
    let s = cpuSeconds() - start
    print("\(name)_cpu_throughput: \(Int(Double(count) / s)) ops/s")
    print("\(name)_cpu_latency: \(Int(s / Double(count) * 1e9)) ns/op")
}

do {
    // ---- memory first (peak RSS only grows): 400,000 records whose indexed field has 200,000
    //      values, two records each (a user id in a bucket of orders)
    try store.defineBucket("orders", config: [
        "key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"], "user": ["type": "number"]], "indexes": ["user"],
    ])
    let rssBefore = peakRSSKiB()
    for i in 0..<400_000 { _ = try store.insert(bucket: "orders", record: ["user": .int(Int64(i / 2))]) }
    print("index_many_values_400k_rss_growth: \(peakRSSKiB() - rssBefore) KiB")
    _ = store.dropBucket("orders")

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
    // (c) worst case: 1,000 unfiltered count subscriptions; every insert re-evaluates and pushes all.
    try store.defineBucket("ticks", config: ["key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"]]])
    try store.defineQuery("tickCount", config: ["bucket": "ticks", "aggregate": ["fn": "count"]])
    pushes = 0
    for _ in 0..<1000 { _ = try store.subscribe(query: "tickCount") { _ in pushes += 1 } }
    try measure("insert_with_1k_unfiltered_subs", 100) { _ in _ = try store.insert(bucket: "ticks", record: [:]) }
    print("unfiltered_subs_pushes: \(pushes) pushes")
    // ---- schema patterns run on PCRE2 with a step limit: an ordinary pattern, and the cost of
    //      refusing a value that would backtrack catastrophically (the worst a client can cause)
    try store.defineBucket("patterned", config: [
        "key": "id",
        "schema": ["id": ["type": "number", "generated": "autoincrement"],
                   "email": ["type": "string", "pattern": "^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$"],
                   "evil": ["type": "string", "pattern": "^(a+)+$"]],
    ])
    try measure("insert_email_pattern", 10_000) { i in _ = try store.insert(bucket: "patterned", record: ["email": .string("user\(i)@example.com")]) }
    let evil = JSON.string(String(repeating: "a", count: 30) + "!")
    var refused = 0
    measure("insert_pattern_over_step_limit", 200) { _ in
        do { _ = try store.insert(bucket: "patterned", record: ["evil": evil]) } catch { refused += 1 }
    }
    if refused != 200 { print("sanity: over-limit pattern accepted") }
    // ---- deletes and updates in a bucket whose indexed field has 4 values over 200,000
    //      records: one must not cost the length of its value's list of keys
    try store.defineBucket("crowd", config: [
        "key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"], "tier": ["type": "string"]], "indexes": ["tier"],
    ])
    for i in 0..<200_000 { _ = try store.insert(bucket: "crowd", record: ["tier": tiers[i % 4]]) }
    try measure("delete_indexed_200k", 2000) { i in try store.delete(bucket: "crowd", key: .int(Int64(i + 1))) }
    try measure("update_indexed_200k", 2000) { i in
        _ = try store.update(bucket: "crowd", key: .int(Int64(100_000 + i)), changes: ["tier": tiers[(i + 1) % 4]])
    }
    try measure("where_indexed_200k", 20) { i in total += try store.where(bucket: "crowd", filter: ["tier": tiers[i % 4]]).count }
    // ---- first/last/paginate of an ordered_set bucket (keys in key order, 20,000 string
    //      keys), alone and after each insert: one request must not sort the whole bucket
    let rankedConfig: JSONObject = [
        "key": "name", "etsType": "ordered_set", "schema": ["name": ["type": "string"], "n": ["type": "number"]],
    ]
    // The same inserts into a bucket of insertion order first: what keeping the key order adds.
    try store.defineBucket("unranked", config: ["key": "name", "schema": ["name": ["type": "string"], "n": ["type": "number"]]])
    try measure("unordered_insert_20k", 20_000) { i in
        _ = try store.insert(bucket: "unranked", record: ["name": .string("Player \((i &* 7919) % 20_000)"), "n": .int(Int64(i))])
    }
    try store.defineBucket("ranked", config: rankedConfig)
    try measure("ordered_insert_20k", 20_000) { i in
        _ = try store.insert(bucket: "ranked", record: ["name": .string("Player \((i &* 7919) % 20_000)"), "n": .int(Int64(i))])
    }
    try measure("ordered_first_call_20k", 1) { _ in total += try store.first(bucket: "ranked", n: 10).count }
    try measure("ordered_first10_20k", 200) { _ in total += try store.first(bucket: "ranked", n: 10).count }
    try measure("ordered_insert_then_last10_20k", 200) { i in
        _ = try store.insert(bucket: "ranked", record: ["name": .string("New \(i)"), "n": .int(Int64(i))])
        total += try store.last(bucket: "ranked", n: 10).count
    }
    try measure("ordered_paginate10_20k", 200) { i in
        total += try store.paginate(bucket: "ranked", after: .string("Player \(i * 50)"), limit: 10).records.count
    }
    // A start's load of 200,000 stored records into an ordered_set bucket, then its first query.
    try store.defineBucket("loadedRanked", config: rankedConfig)
    let stored: [(key: JSON, record: JSONObject)] = (0..<200_000).map { i in
        let name = JSON.string("Player \((i &* 7919) % 200_000)")
        return (name, ["name": name, "n": .int(Int64(i)), "_version": 1, "_createdAt": 0, "_updatedAt": 0])
    }
    measure("ordered_load_200k", 1) { _ in total += store.loadRecords(bucket: "loadedRanked", stored).count }
    try measure("ordered_first_call_after_load_200k", 1) { _ in total += try store.first(bucket: "loadedRanked", n: 10).count }
    // ---- the slowest single insert while a bucket grows to 2^20 + 1 records: a table that
    //      grows by copying itself whole stalls the loop for one insert, longer the larger it is;
    //      then the same with a unique field (its index grows as the bucket does), and with an
    //      indexed field of 4 values (each value's keys grow to 2^18)
    enum Field { case plain, unique, fourValues }
    for (name, kind) in [("insert_1m", Field.plain), ("insert_1m_unique", .unique), ("insert_1m_indexed", .fourValues)] {
        var field: JSONObject = ["type": "number"]
        if kind == .unique { field["unique"] = true }
        try store.defineBucket(name, config: [
            "key": "id", "schema": ["id": ["type": "number", "generated": "autoincrement"], "n": .object(field)],
            "indexes": kind == .fourValues ? ["n"] : [],
        ])
        var slowest = 0.0, slowestAt = 0
        let growStart = cpuSeconds()
        for i in 0...(1 << 20) {
            let t = cpuSeconds()
            _ = try store.insert(bucket: name, record: ["n": .int(Int64(kind == .fourValues ? i % 4 : i))])
            let d = cpuSeconds() - t
            if d > slowest { slowest = d; slowestAt = i + 1 }
        }
        let growTotal = cpuSeconds() - growStart
        print("\(name)_cpu_latency: \(Int(growTotal / Double((1 << 20) + 1) * 1e9)) ns/op")
        print("\(name)_slowest: \((slowest * 1e5).rounded() / 100) ms (insert \(slowestAt))")
        if kind != .unique {
            // ---- the slowest single delete while the oldest 3/4 of those records go (a purge
            //      of old records): a table that closes its holes in one delete stalls the loop
            var slowestDelete = 0.0, slowestDeleteAt = 0
            for i in 1...(3 << 18) {
                let t = cpuSeconds()
                _ = try store.delete(bucket: name, key: .int(Int64(i)))
                let d = cpuSeconds() - t
                if d > slowestDelete { slowestDelete = d; slowestDeleteAt = i }
            }
            let figure = kind == .plain ? "delete_1m_oldest" : "delete_1m_indexed_oldest"
            print("\(figure)_slowest: \((slowestDelete * 1e5).rounded() / 100) ms (delete \(slowestDeleteAt))")
        }
        _ = store.dropBucket(name)
    }
    if total == 0 || hits != 10_000 { print("sanity: failed") }
} catch {
    print("store-bench failed: \(error)")
}
