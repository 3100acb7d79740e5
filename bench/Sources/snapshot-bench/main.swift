// What the cluster's snapshot holder pays on its loop (docs/cluster.md#trimming-and-bootstrap):
// `ClusterSnapshot.capture` of a store with N records plus its serialization (what the holder
// does synchronously before storing it in Redis), and parse + restore (what a bootstrapping
// node does before it listens). One line per figure.
//
//   snapshot-bench [--records N] (default: 10000 and 100000)
import CUV
import NoexCluster
import NoexJSON
import NoexStore

var sizes = [10_000, 100_000]
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    guard a == "--records", let v = args.popFirst(), let n = Int(v), n > 0 else { fatalError("usage: snapshot-bench [--records N]") }
    sizes = [n]
}

func ms(_ since: UInt64) -> String { String(Double((uv_hrtime() - since) / 100_000) / 10) }

for n in sizes {
    let store = Store(ttlCheckIntervalMs: 0, nowMs: { 1 })
    try! store.defineBucket("items", config: ["key": "sku", "schema": [
        "sku": ["type": "string", "required": true], "name": ["type": "string"], "qty": ["type": "number"]]])
    for i in 0..<n {
        _ = try! store.insert(bucket: "items", record: ["sku": .string("sku-\(i)"), "name": .string("item number \(i)"), "qty": .int(Int64(i))])
    }
    let position = ClusterPosition(lastID: StreamID(ms: 1, seq: 0), timeMs: 1)
    var t = uv_hrtime()
    let snapshot = ClusterSnapshot.capture(store, at: position)
    let bytes = snapshot.serializedBytes
    print("snapshot capture+serialize \(n) records: \(ms(t)) ms")
    print("snapshot size \(n) records: \(bytes.count / 1024) KiB")
    t = uv_hrtime()
    let parsed = try! JSON.parse(bytes, limits: JSONLimits(maxBytes: 512 * 1024 * 1024))
    let fresh = Store(ttlCheckIntervalMs: 0, nowMs: { 1 })
    _ = try! ClusterSnapshot.restore(parsed, into: fresh)
    print("snapshot parse+restore \(n) records: \(ms(t)) ms")
}
