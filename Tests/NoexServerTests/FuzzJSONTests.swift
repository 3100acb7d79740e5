import Foundation
import NoexJSON
import NoexStore
import Testing
@testable import NoexServer

/// What one message sent over a valid connection must produce (docs/protocol/envelope.md order).
enum EnvelopeExpectation {
    /// An envelope error: exactly `{"id":0,"type":"error","code":…,"message":…}`.
    case envelopeError(code: String, message: String)
    /// A valid pong: no answer at all.
    case none
    /// A request: one answer echoing `id`.
    case request(id: JSON, fields: JSONObject)

    /// The docs/protocol/envelope.md checks, applied with the server's own JSON limits.
    static func of(_ text: String) -> EnvelopeExpectation {
        guard let parsed = try? JSON.parse(text) else { return .envelopeError(code: "PARSE_ERROR", message: "Invalid JSON") }
        guard let o = parsed.objectValue else { return .envelopeError(code: "PARSE_ERROR", message: "Message must be a JSON object") }
        guard let type = o["type"]?.stringValue, !type.isEmpty else {
            return .envelopeError(code: "INVALID_REQUEST", message: "Message must include non-empty string \"type\"")
        }
        if type == "pong" {
            guard let ts = o["timestamp"]?.numberValue, ts.isFinite else {
                return .envelopeError(code: "INVALID_REQUEST", message: "Pong must include finite numeric \"timestamp\"")
            }
            return .none
        }
        guard let id = o["id"], let v = id.numberValue, v.isFinite else {
            return .envelopeError(code: "INVALID_REQUEST", message: "Request must include finite numeric \"id\"")
        }
        return .request(id: id, fields: o)
    }
}

/// The test's own picture of the store, built only from the writes the server said succeeded.
struct StoreModel {
    struct Bucket {
        var keyField: String
        var records: [String: JSON] = [:]
        /// False once TTL, size limits or exotic keys make the contents unpredictable.
        var modelled = true
    }

    var buckets: [String: Bucket] = [:]

    init() {
        for (name, _) in DemoSchema.buckets { buckets[name] = Bucket(keyField: "id") }
    }

    var names: [String] { buckets.keys.sorted() }

    func keys(_ bucket: String) -> [String] { buckets[bucket].map { Array($0.records.keys).sorted() } ?? [] }
}

/// Random and malformed JSON over one valid connection; the store must end up exactly as the
/// successful writes say.
@Suite(.serialized) struct FuzzJSONTests {
    static let dataOps = ["store.insert", "store.get", "store.update", "store.delete", "store.all", "store.where", "store.findOne",
                          "store.count", "store.first", "store.last", "store.paginate", "store.clear", "store.sum", "store.avg",
                          "store.min", "store.max"]
    static let allOps = dataOps + ["store.buckets", "store.stats", "store.transaction", "store.defineBucket", "store.dropBucket",
                                   "store.updateBucket", "store.getBucketSchema", "store.defineQuery", "store.undefineQuery",
                                   "store.listQueries", "store.subscribe", "store.unsubscribe"]
    static let namespaces = ["store.", "rules.", "auth.", "identity.", "audit.", "procedures.", "server."]

    // MARK: - Generators

    struct Gen {
        var rng: FuzzRNG
        var model = StoreModel()
        var subscriptions: [String] = []
        /// Latest result seen (subscribe answer, then pushes) per live `all-users`/`user-count`
        /// subscription; checked against the model at the end.
        var watched: [String: (query: String, data: JSON)] = [:]

        mutating func string() -> String {
            switch rng.int(0...9) {
            case 0: return ""
            case 1: return rng.pick(["users", "products", "orders", "logs", "id", "name", "$gt", "__proto__", "constructor"])
            case 2: return "é😀中\u{7}"
            case 3: return "\"\\/\u{0}\n"
            case 4: return String(repeating: "x", count: rng.int(100...2000))
            default: return String((0..<rng.int(1...12)).map { _ in rng.pick(Array("abcdefghijklmnopqrstuvwxyz0123456789_-. ")) })
            }
        }

        mutating func scalar() -> JSON {
            switch rng.int(0...12) {
            case 0: return .null
            case 1: return .bool(rng.chance(0.5))
            case 2: return .int(Int64(rng.int(-5...100)))
            case 3: return rng.pick([.int(Int64.max), .int(Int64.min), .double(1e308), .double(-1e308), .double(.leastNonzeroMagnitude), .double(-0.0)])
            case 4: return .double(Double(rng.int(-1000...1000)) / 7)
            case 5: return .int(Int64(bitPattern: rng.next()))
            default: return .string(string())
            }
        }

        mutating func value(_ depth: Int = 0) -> JSON {
            if depth >= 3 { return scalar() }
            switch rng.int(0...9) {
            case 0, 1: return .array((0..<rng.int(0...4)).map { _ in value(depth + 1) })
            case 2, 3:
                var o = JSONObject()
                for _ in 0..<rng.int(0...4) { o[string()] = value(depth + 1) }
                return .object(o)
            default: return scalar()
            }
        }

        mutating func nested(_ depth: Int, leaf: JSON = 1) -> JSON {
            var v = leaf
            for i in 0..<depth { v = i % 2 == 0 ? .array([v]) : .object(["k": v]) }
            return v
        }

        /// Replaces, drops or adds members at random.
        mutating func mutate(_ o: JSONObject, rate: Double = 0.15) -> JSONObject {
            var out = JSONObject()
            for (k, v) in o {
                if rng.chance(rate / 2) { continue }
                out[k] = rng.chance(rate) ? value() : v
            }
            if rng.chance(rate * 1.5) { out[string()] = value() }
            return out
        }

        mutating func bucketName() -> JSON {
            switch rng.int(0...19) {
            case 0...6: return .string(rng.pick(model.names.isEmpty ? ["users"] : model.names))
            case 7...13: return .string(rng.pick(["users", "products", "orders", "logs"]))
            case 14, 15: return .string("fz\(rng.int(0...4))")
            case 16: return ""
            default: return value()
            }
        }

        mutating func key(_ bucket: JSON) -> JSON {
            let existing = bucket.stringValue.map { model.keys($0) } ?? []
            if !existing.isEmpty && rng.chance(0.6) { return (try? JSON.parse(rng.pick(existing))) ?? .null }
            return rng.chance(0.4) ? .string(string()) : value()
        }

        mutating func data(_ bucket: JSON) -> JSON {
            if rng.chance(0.05) { return value() }
            var d: JSONObject
            switch bucket.stringValue {
            case "users": d = ["name": .string(string()), "age": .int(Int64(rng.int(0...99))), "role": .string(rng.pick(["admin", "user", "x"])),
                               "email": .string(string())]
            case "products": d = ["title": .string(string()), "price": .int(Int64(rng.int(0...50))), "stock": .int(Int64(rng.int(0...9)))]
            case "orders": d = ["userId": .string(string()), "status": .string(rng.pick(["pending", "paid"])), "total": .double(Double(rng.int(0...999)) / 4)]
            case "logs": d = ["action": .string(string())]
            default: d = ["v": value(), "n": .int(Int64(rng.int(0...9)))]
            }
            if rng.chance(0.1) { d["id"] = rng.chance(0.5) ? .string(string()) : value() }
            if rng.chance(0.03) { d["deep"] = nested(rng.int(490...520)) }
            return .object(mutate(d, rate: 0.1))
        }

        mutating func filter() -> JSON {
            let field = rng.pick(["name", "age", "role", "price", "stock", "status", "total", "action", "v", "n", "id", "nope"])
            switch rng.int(0...9) {
            case 0: return [:]
            case 1, 2: return [field: scalar()]
            case 3, 4:
                let op = rng.pick(["$eq", "$ne", "$neq", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$contains", "$startsWith",
                                   "$endsWith", "$exists", "$between", "$regex", "$bogus", "$param"])
                let arg: JSON = rng.chance(0.5) ? scalar() : .array((0..<rng.int(0...3)).map { _ in scalar() })
                return [field: [op: arg]]
            case 5: return ["$and": .array((0..<rng.int(0...3)).map { _ in filter() })]
            case 6: return ["$or": rng.chance(0.8) ? .array((0..<rng.int(0...3)).map { _ in filter() }) : value()]
            case 7: return .object(mutate([field: [rng.pick(["$gt", "$in"]): value()]], rate: 0.5))
            default: return value()
            }
        }

        mutating func positive() -> JSON {
            rng.chance(0.7) ? .int(Int64(rng.int(1...5))) : rng.pick([0, -1, 1.5, "2", .null, 1e30, true, 2.0, .int(Int64.max)])
        }

        mutating func txOperation() -> JSON {
            let b = bucketName()
            var o: JSONObject = ["op": .string(rng.chance(0.9) ? rng.pick(["get", "insert", "update", "delete", "where", "findOne", "count"]) : string()),
                                 "bucket": b]
            switch o["op"]?.stringValue {
            case "insert": o["data"] = data(b)
            case "update": o["key"] = key(b); o["data"] = data(b)
            case "get", "delete": o["key"] = key(b)
            case "where", "findOne", "count": o["filter"] = filter()
            default: break
            }
            return rng.chance(0.05) ? value() : .object(mutate(o, rate: 0.1))
        }

        mutating func bucketConfig() -> JSON {
            var schema: JSONObject = [:]
            var key = "id"
            if rng.chance(0.7) {
                schema["id"] = ["type": "string", "generated": "uuid"]
            } else {
                key = "n"
                schema["n"] = ["type": "number", "generated": "autoincrement"]
            }
            schema["v"] = ["type": .string(rng.pick(["string", "number", "boolean", "object", "array", "bogus"]))]
            schema["n2"] = ["type": "number", "min": 0, "max": 100]
            var c: JSONObject = ["key": .string(key), "schema": .object(schema)]
            if rng.chance(0.3) { c["etsType"] = .string(rng.pick(["set", "ordered_set", "bag", "duplicate_bag", "nope"])) }
            if rng.chance(0.2) { c["indexes"] = .array([rng.pick(["v", "n2", "nope"])]) }
            if rng.chance(0.05) { c["ttl"] = rng.pick(["1h", 3_600_000, "bogus", -1]) }
            if rng.chance(0.05) { c["maxSize"] = .int(Int64(rng.int(1...5))) }
            return rng.chance(0.1) ? value() : .object(mutate(c, rate: 0.1))
        }

        /// A random request for `op` (plausible fields, then mutated).
        mutating func request(_ op: String, id: Int64) -> JSONObject {
            var r: JSONObject = ["id": .int(id), "type": .string(op)]
            let b = bucketName()
            switch op {
            case "store.insert": r["bucket"] = b; r["data"] = data(b)
            case "store.get", "store.delete": r["bucket"] = b; r["key"] = key(b)
            case "store.update": r["bucket"] = b; r["key"] = key(b); r["data"] = data(b)
            case "store.all", "store.clear": r["bucket"] = b
            case "store.where", "store.findOne": r["bucket"] = b; r["filter"] = filter()
            case "store.count": r["bucket"] = b; if rng.chance(0.5) { r["filter"] = filter() }
            case "store.first", "store.last": r["bucket"] = b; r["n"] = positive()
            case "store.paginate":
                r["bucket"] = b; r["limit"] = positive()
                if rng.chance(0.5) { r["after"] = key(b) }
            case "store.sum", "store.avg", "store.min", "store.max":
                r["bucket"] = b; r["field"] = .string(rng.pick(["price", "age", "stock", "total", "n", "name", "nope", ""]))
                if rng.chance(0.4) { r["filter"] = filter() }
            case "store.transaction":
                r["operations"] = rng.chance(0.9) ? .array((0..<rng.int(0...4)).map { _ in txOperation() }) : value()
            case "store.defineBucket": r["name"] = .string("fz\(rng.int(0...4))"); r["config"] = bucketConfig()
            case "store.dropBucket", "store.getBucketSchema":
                r["name"] = rng.chance(0.9) ? .string("fz\(rng.int(0...4))") : (op == "store.dropBucket" ? rng.pick(["logs", "", 5, nil, "no such bucket", [:]]) : bucketName())
            case "store.updateBucket":
                r["name"] = rng.chance(0.7) ? .string("fz\(rng.int(0...4))") : bucketName()
                let fieldName = "f\(rng.int(0...3))"
                let fieldDef: JSON = ["type": "string"]
                let addFields: JSON = ["addFields": .object(JSONObject([(fieldName, fieldDef)]))]
                let addIndexes: JSON = ["addIndexes": [.string(rng.pick(["v", "f1", "nope"]))]]
                r["updates"] = rng.pick([addFields, addIndexes, ["ttl": .null], value()])
            case "store.defineQuery":
                r["name"] = .string("fq\(rng.int(0...3))")
                r["config"] = rng.chance(0.8) ? ["bucket": bucketName(), "filter": filter()] : value()
            case "store.undefineQuery": r["name"] = rng.chance(0.9) ? .string("fq\(rng.int(0...4))") : value()
            case "store.subscribe":
                r["query"] = rng.chance(0.9) ? .string(rng.pick(["all-users", "users-by-role", "user-count", "nope", "fq0", "fq1"])) : value()
                if rng.chance(0.5) { r["params"] = rng.chance(0.5) ? ["role": .string(rng.pick(["admin", "user"]))] : value() }
            case "store.unsubscribe":
                r["subscriptionId"] = !subscriptions.isEmpty && rng.chance(0.7) ? .string(rng.pick(subscriptions)) : (rng.chance(0.5) ? "sub-999999" : value())
            default: break
            }
            var mutated = mutate(r, rate: 0.08)
            mutated["id"] = .int(id)
            mutated["type"] = .string(op)
            return mutated
        }

        /// A message that is broken at the envelope level (the oracle decides the expected answer).
        mutating func junk(id: Int64) -> String {
            let valid = #"{"id":\#(id),"type":"store.count","bucket":"orders"}"#
            switch rng.int(0...11) {
            case 0: return rng.pick(["", " ", "{", "}", "{not json", "nul", "tru", "[1,2", #"{"a":}"#, "{'type':'x'}", "NaN", "Infinity",
                                     #"{"id":1,}"#, "/*c*/{}", "\u{1}", "01", "-", "1e", #""\x""#, #""\ud800""#, #"{"id":1e400,"type":"x"}"#,
                                     #"{"type":"store.count","id":1}{}"#, "\u{FEFF}{}", #"{"type":"a\u0000b","id":1}"#])
            case 1: return String(valid.prefix(rng.int(0...(valid.count - 1))))
            case 2: return valid + rng.pick(["}", " x", ",", "{}", "\u{0}"])
            case 3:
                var chars = Array(valid)
                for _ in 0..<rng.int(1...3) {
                    let i = rng.int(0...(chars.count - 1))
                    switch rng.int(0...2) {
                    case 0: chars[i] = rng.pick(Array("{}[]\":,0-e.\\ a"))
                    case 1: chars.remove(at: i)
                    default: chars.insert(rng.pick(Array("{}[]\":,0-e.\\ a")), at: i)
                    }
                }
                return String(chars)
            case 4:
                var v = value()
                if v.objectValue != nil { v = .array([v]) }
                return v.jsonString
            case 5:
                var o: JSONObject = ["id": .int(id), "bucket": "orders"]
                if rng.chance(0.8) { o["type"] = rng.pick([nil, 1, "", [], [:], true, 1.5]) }
                return JSON.object(o).jsonString
            case 6:
                var o: JSONObject = ["type": "store.count", "bucket": "orders"]
                if rng.chance(0.8) { o["id"] = rng.pick([nil, "1", true, [:], [1], "NaN", ""]) }
                return JSON.object(o).jsonString
            case 7:
                var o: JSONObject = ["type": "pong"]
                if rng.chance(0.9) { o["timestamp"] = rng.pick([nil, "1", 1.5, -1, 1e308, 0, [:], true, .int(Int64.max)]) }
                if rng.chance(0.3) { o["id"] = .int(id) }
                return JSON.object(o).jsonString
            case 8: return #"{"type":"pong","timestamp":1e999}"#
            case 9:
                let n = rng.pick([2, 100, 511, 512, 513, 600, 5000, 100_000])
                return rng.chance(0.5) ? String(repeating: "[", count: n) + String(repeating: "]", count: n) : String(repeating: "[", count: n)
            case 10:
                let n = rng.pick([400, 508, 509, 510, 511, 512, 600])
                return JSON.object(["id": .int(id), "type": "store.count", "bucket": "orders", "filter": nested(n)]).jsonString
            default: return String(decoding: Array(string().utf8.shuffled(using: &rng)).filter { $0 < 0x80 }, as: UTF8.self)
            }
        }

        /// A valid `store.count` with an unusual id, written as text.
        mutating func oddID() -> String {
            let raw = rng.pick(["0", "-1", "1.5", "-0", "-0.0", "1e308", "-1e308", "5e-324", "9007199254740993", "9223372036854775807",
                                "-9223372036854775808", "123456789012345678901234567890", "1E2", "1.0e+2", "0.1e-5", "4.9e-324"])
            return #"{"id":\#(raw),"type":"store.count","bucket":"orders"}"#
        }

        mutating func unknownType() -> String {
            rng.chance(0.5) ? rng.pick(["store.nope", "store.", "store.INSERT", "Store.insert", "foo", "x.y.z", "ping", "welcome",
                                        "rules.emit", "auth.login", "identity.whoami", "server.stats", "audit.query", "procedures.call",
                                        "store.insert ", " store.insert", "store.insert\u{0}"])
                : string()
        }
    }

    // MARK: - Checking answers against the model

    struct Checker {
        var gen: Gen
        var problems: [String] = []
        var codes: [String: Int] = [:]
        var perOp: [String: (ok: Int, err: Int)] = [:]
        var internalSamples: [String] = []
        var strongChecks = 0

        mutating func problem(_ s: String) {
            if problems.count < 30 { problems.append(s) }
        }

        private var model: StoreModel {
            get { gen.model }
            set { gen.model = newValue }
        }

        static func canonKey(_ k: JSON) -> String? {
            switch k {
            case .string, .int, .double: return FuzzJSON.canon(k)
            default: return nil
            }
        }

        /// Checks one answer (already known to be well-formed, with the right id) and folds the
        /// successful writes into the model.
        mutating func apply(_ req: JSONObject, _ answer: JSON, text: String) {
            let type = req["type"]?.stringValue ?? ""
            let ok = answer["type"] == "result"
            let data = answer["data"] ?? .null
            let code = answer["code"]?.stringValue ?? "-"
            codes[code == "-" ? "result" : code, default: 0] += 1
            var counts = perOp[type] ?? (0, 0)
            if ok { counts.ok += 1 } else { counts.err += 1 }
            perOp[type] = counts
            if code == "INTERNAL_ERROR" && internalSamples.count < 8 {
                internalSamples.append("\(JSON.object(req).jsonString.prefix(300)) -> \(text.prefix(300))")
            }
            let bucket = req["bucket"]?.stringValue ?? ""
            let isDataOp = FuzzJSONTests.dataOps.contains(type)
            if isDataOp && !bucket.isEmpty {
                if ok && model.buckets[bucket] == nil { problem("\(type) succeeded on bucket \(bucket) the model does not have: \(text.prefix(200))") }
                if code == "BUCKET_NOT_DEFINED" && model.buckets[bucket] != nil { problem("\(type): BUCKET_NOT_DEFINED for existing \(bucket)") }
            }
            if !type.hasPrefix("store.") || !FuzzJSONTests.allOps.contains(type) {
                let namespaced = FuzzJSONTests.namespaces.contains(where: { type.hasPrefix($0) })
                // Only other namespaces (server.stats, …) may hold real operations.
                if ok && (!namespaced || type.hasPrefix("store.")) { problem("unknown op \(type.debugDescription) succeeded") }
                if !namespaced {
                    let want: JSON = ["id": req["id"] ?? 0, "type": "error", "code": "UNKNOWN_OPERATION", "message": .string("Unknown operation \"\(type)\"")]
                    if answer != want { problem("unknown op: want \(want.jsonString), got \(text)") }
                } else if type.hasPrefix("store.") && code != "UNKNOWN_OPERATION" {
                    problem("unknown store op \(type.debugDescription): \(text)")
                }
                return
            }
            let modelled = model.buckets[bucket]?.modelled == true
            switch type {
            case "store.insert":
                guard ok, var b = model.buckets[bucket] else { return }
                guard let key = data[b.keyField], let ck = Self.canonKey(key) else {
                    b.modelled = false
                    if bucket == "users" { gen.watched = [:] }
                    model.buckets[bucket] = b
                    return
                }
                if b.modelled && b.records[ck] != nil { problem("insert reused existing key \(ck) in \(bucket)") }
                b.records[ck] = data
                model.buckets[bucket] = b
            case "store.update":
                guard let key = req["key"], let ck = Self.canonKey(key), modelled else { return }
                if ok {
                    guard let old = model.buckets[bucket]?.records[ck] else {
                        problem("update of \(ck) in \(bucket) succeeded but the model has no such record")
                        return
                    }
                    if data["_version"]?.numberValue != (old["_version"]?.numberValue ?? 0) + 1 { problem("update: _version not incremented: \(text.prefix(200))") }
                    if let k = model.buckets[bucket].map({ data[$0.keyField] }), k.map(Self.canonKey) != ck { problem("update changed the key: \(text.prefix(200))") }
                    model.buckets[bucket]?.records[ck] = data
                } else if code == "NOT_FOUND" && model.buckets[bucket]?.records[ck] != nil {
                    problem("update: NOT_FOUND for existing key \(ck) in \(bucket)")
                }
            case "store.delete":
                guard ok, let key = req["key"] else { return }
                // A non-scalar key matches no record of a modelled bucket (all their keys are
                // scalars); if the store removed something anyway, the final check sees it.
                if let ck = Self.canonKey(key) { model.buckets[bucket]?.records[ck] = nil }
            case "store.clear":
                if ok { model.buckets[bucket]?.records = [:] }
            case "store.transaction":
                guard ok else { return }
                let ops = req["operations"]?.arrayValue ?? []
                let results = data["results"]?.arrayValue ?? []
                if ops.count != results.count { problem("transaction: \(ops.count) ops, \(results.count) results") }
                for (op, res) in zip(ops, results) {
                    let b = op["bucket"]?.stringValue ?? ""
                    guard var mb = model.buckets[b] else {
                        problem("transaction succeeded on unknown bucket \(b)")
                        continue
                    }
                    let rd = res["data"] ?? .null
                    switch op["op"]?.stringValue {
                    case "insert":
                        if let k = rd[mb.keyField], let ck = Self.canonKey(k) { mb.records[ck] = rd } else { mb.modelled = false }
                    case "update":
                        if let k = op["key"], let ck = Self.canonKey(k) {
                            if mb.modelled && mb.records[ck] == nil { problem("transaction updated \(ck) in \(b), which the model does not have") }
                            mb.records[ck] = rd
                        } else if mb.modelled {
                            problem("transaction updated a non-scalar key in \(b): \(text.prefix(200))")
                        }
                    case "delete":
                        if let k = op["key"], let ck = Self.canonKey(k) { mb.records[ck] = nil }
                    default: break
                    }
                    model.buckets[b] = mb
                }
            case "store.defineBucket":
                guard ok, let name = req["name"]?.stringValue else { return }
                if model.buckets[name] != nil { problem("defineBucket \(name) succeeded over an existing bucket") }
                let config = req["config"] ?? .null
                var b = StoreModel.Bucket(keyField: config["key"]?.stringValue ?? "id")
                b.modelled = config["key"]?.stringValue != nil && config["ttl"] == nil && config["maxSize"] == nil
                model.buckets[name] = b
            case "store.dropBucket":
                let name = req["name"]?.stringValue ?? ""
                if ok {
                    if model.buckets[name] == nil { problem("dropBucket \(name) succeeded on a bucket the model does not have") }
                    if name == "users" { gen.watched = [:] }
                    model.buckets[name] = nil
                } else if code == "BUCKET_NOT_DEFINED" && model.buckets[name] != nil {
                    problem("dropBucket: BUCKET_NOT_DEFINED for existing \(name)")
                }
            case "store.undefineQuery":
                if ok, let q = req["name"]?.stringValue { gen.watched = gen.watched.filter { $0.value.query != q } }
            case "store.updateBucket":
                let name = req["name"]?.stringValue ?? ""
                if ok, let ttl = req["updates"]?["ttl"], !ttl.isNull {
                    model.buckets[name]?.modelled = false
                    if name == "users" { gen.watched = [:] }
                }
            case "store.subscribe":
                if ok, let sid = data["subscriptionId"]?.stringValue {
                    gen.subscriptions.append(sid)
                    if let q = req["query"]?.stringValue, q == "all-users" || q == "user-count", model.buckets["users"]?.modelled == true {
                        gen.watched[sid] = (q, data["data"] ?? .null)
                    }
                }
            case "store.unsubscribe":
                if ok, let sid = req["subscriptionId"]?.stringValue {
                    gen.subscriptions.removeAll { $0 == sid }
                    gen.watched[sid] = nil
                }
            case "store.get":
                guard modelled, let key = req["key"], let ck = Self.canonKey(key) else { return }
                strongChecks += 1
                let want = model.buckets[bucket]?.records[ck] ?? .null
                if !ok || data != want { problem("get \(ck) in \(bucket): want \(want.jsonString.prefix(200)), got \(text.prefix(200))") }
            case "store.count":
                guard modelled, req["filter"] == nil || req["filter"] == .null else { return }
                strongChecks += 1
                let want = model.buckets[bucket]?.records.count ?? -1
                if !ok || data != .int(Int64(want)) { problem("count \(bucket): want \(want), got \(text.prefix(200))") }
            case "store.all":
                guard modelled else { return }
                strongChecks += 1
                if !ok || !Self.sameRecords(data, model.buckets[bucket]!) { problem("all \(bucket) differs from the model: \(text.prefix(300))") }
            default: break
            }
        }

        static func sameRecords(_ data: JSON, _ b: StoreModel.Bucket) -> Bool {
            guard let list = data.arrayValue, list.count == b.records.count else { return false }
            for r in list {
                guard let k = r[b.keyField], let ck = canonKey(k), b.records[ck] == r else { return false }
            }
            return true
        }
    }

    // MARK: - The test

    @Test func randomEnvelopesAndPayloadsAreEachAnsweredOnceAndTheStoreStaysConsistent() throws {
        let seed = FuzzRNG.seed(salt: 4)
        print("[fuzz] json: seed 0x\(String(seed, radix: 16)) (set NOEX_FUZZ_SEED to change)")
        let server = ServerThread { ServerConfig(store: demoStore()) }
        defer { server.stop() }
        let s = try #require(FuzzSocket(port: server.port))
        try #require(s.handshake())
        #expect(s.next(timeoutMs: 5000).isWelcome)
        var checker = Checker(gen: Gen(rng: FuzzRNG(seed: seed)))
        let budget = FuzzBudget(seconds: 8)
        var nextID: Int64 = 1
        var sent = 0
        var envelopeCases = 0
        var pongs = 0
        var pushes = 0
        var aborted = false

        batches: for _ in 0..<600 where !budget.spent && !aborted {
            var batch: [(text: String, expect: EnvelopeExpectation)] = []
            for _ in 0..<12 {
                let id = nextID
                nextID += 1
                var text: String
                let roll = checker.gen.rng.int(0...99)
                if roll < 14 {
                    text = checker.gen.junk(id: id)
                } else if roll < 18 {
                    text = checker.gen.oddID()
                } else if roll < 22 {
                    var o = checker.gen.mutate(["bucket": "orders"], rate: 0.5)
                    o["id"] = .int(id)
                    o["type"] = .string(checker.gen.unknownType())
                    text = JSON.object(o).jsonString
                } else {
                    var op = checker.gen.rng.chance(0.3)
                        ? checker.gen.rng.pick(["store.insert", "store.insert", "store.update", "store.update", "store.transaction", "store.get", "store.count"])
                        : checker.gen.rng.pick(Self.allOps)
                    // Keep pushes and store.all answers small: cap records and live subscriptions.
                    if op == "store.insert" || op == "store.subscribe" {
                        let total = checker.gen.model.buckets.values.reduce(0) { $0 + $1.records.count }
                        if total > 120 { op = "store.clear" }
                        if op == "store.subscribe" && checker.gen.subscriptions.count >= 4 { op = "store.unsubscribe" }
                    }
                    text = JSON.object(checker.gen.request(op, id: id)).jsonString
                }
                let expect = EnvelopeExpectation.of(text)
                if case .envelopeError = expect { envelopeCases += 1 }
                if case .none = expect { pongs += 1 }
                batch.append((text, expect))
            }
            for m in batch { s.sendText(m.text) }
            sent += batch.count
            for m in batch {
                let wantID: JSON
                switch m.expect {
                case .none: continue
                case .envelopeError: wantID = 0
                case .request(let id, _): wantID = id
                }
                let answerEvent = s.nextAnswer(timeoutMs: 5000) { push in
                    pushes += 1
                    if let sid = push["subscriptionId"]?.stringValue, let w = checker.gen.watched[sid] {
                        checker.gen.watched[sid] = (w.query, push["data"] ?? .null)
                    }
                }
                guard case .text(let text) = answerEvent else {
                    Issue.record("no answer to \(m.text.prefix(300))")
                    aborted = true
                    break batches
                }
                guard let answer = FuzzJSON.parse(text) else {
                    Issue.record("answer is not JSON: \(text.prefix(300)) (to \(m.text.prefix(300)))")
                    continue
                }
                if let p = FuzzJSON.shapeProblem(answer) { checker.problem("\(p): \(text.prefix(200)) (to \(m.text.prefix(200)))") }
                guard answer["id"]?.numberValue == wantID.numberValue else {
                    Issue.record("answer out of order or wrong id: want id \(wantID.jsonString), got \(text.prefix(300)) (to \(m.text.prefix(300)))")
                    aborted = true
                    break batches
                }
                switch m.expect {
                case .envelopeError(let code, let message):
                    let want: JSON = ["id": 0, "type": "error", "code": .string(code), "message": .string(message)]
                    if answer != want { checker.problem("envelope: want \(want.jsonString), got \(text) (to \(m.text.prefix(200)))") }
                    checker.codes[code, default: 0] += 1
                case .request(_, let fields): checker.apply(fields, answer, text: text)
                case .none: break
                }
            }
        }
        try #require(!aborted)
        // Exactly one answer each: a sentinel is the next answer, nothing left over before it.
        s.sendText(#"{"id":777777777,"type":"store.buckets"}"#)
        let sentinelEvent = s.nextAnswer(timeoutMs: 5000) { push in
            pushes += 1
            if let sid = push["subscriptionId"]?.stringValue, let w = checker.gen.watched[sid] {
                checker.gen.watched[sid] = (w.query, push["data"] ?? .null)
            }
        }
        guard case .text(let sentinel) = sentinelEvent, let sj = FuzzJSON.parse(sentinel) else {
            Issue.record("no answer to the sentinel: the connection did not stay open")
            return
        }
        #expect(sj["id"] == 777777777)
        let names = Set(sj["data"]?["names"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        #expect(names == Set(checker.gen.model.names), "buckets differ from the model")
        // Final consistency: every bucket's contents against the model.
        var finalChecks = 0
        for (name, b) in checker.gen.model.buckets.sorted(by: { $0.key < $1.key }) {
            let id = 800_000_000 + Int64(finalChecks)
            finalChecks += 1
            s.sendText(JSON.object(["id": .int(id), "type": "store.all", "bucket": .string(name)]).jsonString)
            guard case .text(let t) = s.nextAnswer(timeoutMs: 5000), let a = FuzzJSON.parse(t) else {
                Issue.record("no answer to store.all \(name)")
                continue
            }
            s.sendText(JSON.object(["id": .int(id + 1), "type": "store.count", "bucket": .string(name)]).jsonString)
            guard case .text(let ct) = s.nextAnswer(timeoutMs: 5000), let c = FuzzJSON.parse(ct) else {
                Issue.record("no answer to store.count \(name)")
                continue
            }
            #expect(c["data"]?.numberValue == Double(a["data"]?.arrayValue?.count ?? -1), "count and all disagree for \(name)")
            if b.modelled {
                #expect(Checker.sameRecords(a["data"] ?? .null, b), "bucket \(name) differs from the model: \(t.prefix(500))")
            }
        }
        print("[fuzz] json: users bucket modelled: \(checker.gen.model.buckets["users"].map { String($0.modelled) } ?? "dropped")")
        // Two fresh subscriptions and one insert, so the push check below never runs empty.
        if checker.gen.model.buckets["users"] == nil {
            // Dropped by a mutated request: define it again as the demo schema does.
            let def = DemoSchema.buckets.first { $0.name == "users" }!.definition
            let r: JSON = ["id": 900_000_000, "type": "store.defineBucket", "name": "users", "config": .object(def)]
            s.sendText(r.jsonString)
            if case .text(let t) = s.nextAnswer(timeoutMs: 5000), let a = FuzzJSON.parse(t) { checker.apply(r.objectValue!, a, text: t) }
        }
        if checker.gen.model.buckets["users"]?.modelled == true {
            let script: [JSON] = [
                ["id": 900_000_001, "type": "store.subscribe", "query": "all-users"],
                ["id": 900_000_002, "type": "store.subscribe", "query": "user-count"],
                ["id": 900_000_003, "type": "store.insert", "bucket": "users", "data": ["name": "last"]],
                ["id": 900_000_004, "type": "store.count", "bucket": "users"],
            ]
            for r in script { s.sendText(r.jsonString) }
            for r in script {
                let e = s.nextAnswer(timeoutMs: 5000) { push in
                    pushes += 1
                    if let sid = push["subscriptionId"]?.stringValue, let w = checker.gen.watched[sid] {
                        checker.gen.watched[sid] = (w.query, push["data"] ?? .null)
                    }
                }
                guard case .text(let t) = e, let a = FuzzJSON.parse(t), a["id"] == r["id"] else {
                    Issue.record("no answer to \(r.jsonString): \(e)")
                    break
                }
                checker.apply(r.objectValue!, a, text: t)
            }
            // The insert's pushes may trail its answer: the count answer came after them.
        }
        // The newest result each live subscription received matches the final store.
        if let users = checker.gen.model.buckets["users"], users.modelled {
            for (sid, w) in checker.gen.watched.sorted(by: { $0.key < $1.key }) {
                if w.query == "user-count" {
                    #expect(w.data == .int(Int64(users.records.count)), "\(sid) (user-count) last saw \(w.data.jsonString)")
                } else {
                    #expect(Checker.sameRecords(w.data, users), "\(sid) (all-users) last saw \(w.data.jsonString.prefix(300))")
                }
            }
        }
        for p in checker.problems { Issue.record(Comment(rawValue: p)) }
        let opsCovered = Self.allOps.filter { checker.perOp[$0] != nil }
        #expect(opsCovered.count == Self.allOps.count, "ops never exercised: \(Set(Self.allOps).subtracting(opsCovered))")
        print("[fuzz] json: \(sent) messages (\(envelopeCases) envelope errors, \(pongs) valid pongs), \(pushes) pushes, "
              + "\(checker.gen.watched.count) live subscriptions checked, \(checker.strongChecks) model checks "
              + "during the run, \(finalChecks) buckets checked at the end")
        print("[fuzz] json: answers by code \(checker.codes.sorted { $0.key < $1.key })")
        print("[fuzz] json: per op (ok/err) \(checker.perOp.sorted { $0.key < $1.key }.filter { Self.allOps.contains($0.key) }.map { "\($0.key.dropFirst(6))=\($0.value.ok)/\($0.value.err)" })")
        for sample in checker.internalSamples { print("[fuzz] json: INTERNAL_ERROR sample: \(sample)") }
        #expect(sent >= 500, "too few messages in the time budget")
    }
}
