import NoexJSON
import NoexStore
@testable import NoexServer

/// The wire store fixture plus queries of every kind a delta subscription meets: sorted,
/// filtered, limited, scalar, and arrays without record keys.
func deltaStoreFixture() -> Store {
    let store = wireStoreFixture()
    try! store.defineQuery("items-by-qty", config: ["bucket": "items", "sort": ["qty": "desc", "sku": "asc"]])
    try! store.defineQuery("rich-items", config: ["bucket": "items", "filter": ["qty": ["$gte": 5]]])
    try! store.defineQuery("top-items", config: ["bucket": "items", "sort": ["qty": "desc", "sku": "asc"], "limit": 4])
    try! store.defineQuery("item-count", config: ["bucket": "items", "aggregate": ["function": "count"]])
    try! store.defineQuery("qty-sum", config: ["bucket": "items", "aggregate": ["function": "sum", "field": "qty"]])
    try! store.defineQuery("item-names", config: ["bucket": "items", "sort": ["sku": "asc"], "pluck": "name"])
    return store
}

/// A delta subscriber's copy of the result, kept the way the protocol reference tells a client
/// to: apply a delta whose `base` is the current `seq`, ignore one that is not (a push was lost;
/// a resync follows), take a resync whole.
struct DeltaView {
    var result: JSON
    var seq: Int64 = 0
    /// Deltas ignored because their base was not the current seq.
    var ignored = 0
    var resyncs = 0
    var opPushes = 0
    var valuePushes = 0

    init(initial: JSON) { result = initial }

    /// Applies one push's `data`; nil when it is well formed, else what is wrong with it.
    mutating func apply(_ data: JSON) -> String? {
        if let r = data["resync"] {
            guard data.objectValue?.count == 1, let s = r["seq"]?.intValue, s > seq, let v = r["value"] else {
                return "bad resync \(data.jsonString) at seq \(seq)"
            }
            (result, seq) = (v, s)
            resyncs += 1
            return nil
        }
        guard data.objectValue?.count == 1, let d = data["delta"], let base = d["base"]?.intValue,
              let next = d["seq"]?.intValue, next == base + 1 else { return "not a delta push: \(data.jsonString)" }
        guard base == seq else {
            ignored += 1
            return nil
        }
        if let v = d["value"] {
            result = v
            valuePushes += 1
        } else {
            guard let ops = d["ops"]?.arrayValue, var array = result.arrayValue else { return "no ops: \(data.jsonString)" }
            for op in ops {
                guard let i = op["index"]?.intValue.map(Int.init) else { return "op without index: \(op.jsonString)" }
                switch (op["op"]?.stringValue, op["record"]) {
                case ("remove"?, nil) where i < array.count: array.remove(at: i)
                case ("insert"?, let r?) where i <= array.count: array.insert(r, at: i)
                case ("replace"?, let r?) where i < array.count: array[i] = r
                default: return "op \(op.jsonString) does not apply to \(array.count) elements"
                }
            }
            result = .array(array)
            opPushes += 1
        }
        seq = next
        return nil
    }
}

extension JSON {
    /// A delta push's `data` with the timestamps of every record in it normalised (`wireStable`).
    var stableDelta: JSON {
        guard case .object(var o) = self, case .object(var d)? = o["delta"] ?? o["resync"] else { return self }
        if let v = d["value"] { d["value"] = wireStable(v) }
        if let ops = d["ops"]?.arrayValue {
            d["ops"] = .array(ops.map { op in
                guard case .object(var p) = op, let r = p["record"] else { return op }
                p["record"] = wireStable(r)
                return .object(p)
            })
        }
        o[o["delta"] != nil ? "delta" : "resync"] = .object(d)
        return .object(o)
    }
}
