import CUV
import NoexJSON
import NoexStore

/// One `procedures.call` in progress (docs/procedures.md#execution): runs the validated steps in
/// order, synchronously on the loop, and keeps the call inside its bounds — the time budget
/// (checked on a monotonic clock before every step and once at the end) and its ProcedureBudget.
final class ProcedureRun {
    let name: String
    let limits: ProceduresConfig
    let timeoutMs: Double
    private let startNs: UInt64
    let budget: ProcedureBudget
    private(set) var input: JSONObject
    private(set) var results = JSONObject()
    private(set) var returnValue: JSON?
    private var returned = false
    private let store: ProcedureStoreAccess
    var rules: ProcedureRulesAccess
    /// The check a standalone request of the step's type and resource would pass (auth, then the
    /// system-bucket guard); throws that request's error.
    private let authorize: (Request) throws(ServerError) -> Void

    init(name: String, input: JSONObject, timeoutMs: Double, limits: ProceduresConfig,
         store: ProcedureStoreAccess, rules: ProcedureRulesAccess,
         authorize: @escaping (Request) throws(ServerError) -> Void) {
        self.name = name
        self.input = input
        self.timeoutMs = timeoutMs
        self.limits = limits
        self.store = store
        self.rules = rules
        self.authorize = authorize
        budget = ProcedureBudget(name: name, limits: limits)
        startNs = uv_hrtime()
    }

    /// The wire result: `{success, result?, results}`.
    var resultJSON: JSON {
        var o: JSONObject = ["success": true]
        if let returnValue { o["result"] = returnValue }
        o["results"] = .object(results)
        return .object(o)
    }

    func run(_ steps: [JSON]) throws(ServerError) {
        try runSteps(steps)
        try checkTime()
    }

    // MARK: - Bounds

    private func checkTime() throws(ServerError) {
        let elapsedMs = Double(uv_hrtime() - startNs) / 1_000_000
        if elapsedMs > timeoutMs {
            throw ServerError(.internalError, "Procedure \"\(name)\" timed out after \(JSValue.number(timeoutMs))ms")
        }
    }

    private func charge(_ n: Int) throws(ServerError) { try budget.charge(n) }

    private var templates: ProcedureTemplates {
        ProcedureTemplates(input: input, results: results, budget: budget)
    }

    private func resolve(_ v: JSON?) throws(ServerError) -> JSON? {
        guard let v else { return nil }
        return try templates.resolve(v)
    }

    /// A resolved object field (`filter`, `data`); anything else resolves to `{}`, as spreading
    /// a non-object does in the original.
    private func resolveObject(_ v: JSON?) throws(ServerError) -> JSONObject {
        try resolve(v)?.objectValue ?? JSONObject()
    }

    private func storeCall<T>(_ body: () throws(StoreError) -> T) throws(ServerError) -> T {
        do throws(StoreError) { return try body() } catch { throw Self.map(error) }
    }

    /// Store failures inside a procedure, as the original maps them (by error name): validation
    /// problems are VALIDATION_ERROR without details, everything else INTERNAL_ERROR with the
    /// store's message.
    static func map(_ e: StoreError) -> ServerError {
        switch e {
        case .validation, .invalidQuery: ServerError(.validationError, e.message)
        default: ServerError(.internalError, e.message)
        }
    }

    private func check(_ type: String, _ field: String, _ value: String) throws(ServerError) {
        try authorize(Request(id: .int(0), type: type, fields: ["type": .string(type), field: .string(value)]))
    }

    // MARK: - Steps

    private func runSteps(_ steps: [JSON]) throws(ServerError) {
        for case .object(let step) in steps {
            if returned { return }
            try checkTime()
            try runStep(step)
        }
    }

    private func runStep(_ s: JSONObject) throws(ServerError) {
        let action = s["action"]?.stringValue ?? ""
        let bucket = s["bucket"]?.stringValue ?? ""
        let asName = s["as"]?.stringValue
        if action.hasPrefix("store.") { try check(action, "bucket", bucket) }
        switch action {
        case "store.get":
            let key = try resolve(s["key"]) ?? .null
            let record = try storeCall { () throws(StoreError) in try self.store.get(bucket, key) }
            try charge(1)
            results[asName!] = record.map(JSON.object) ?? .null
        case "store.where":
            let filter = try resolveObject(s["filter"])
            let records = try storeCall { () throws(StoreError) in try self.store.where(bucket, filter) }
            try charge(records.count)
            results[asName!] = .array(records.map(JSON.object))
        case "store.findOne":
            let filter = try resolveObject(s["filter"])
            let record = try storeCall { () throws(StoreError) in try self.store.findOne(bucket, filter) }
            try charge(1)
            results[asName!] = record.map(JSON.object) ?? .null
        case "store.insert":
            let data = try resolveObject(s["data"])
            try budget.checkDepth(.object(data), action)
            try charge(1)
            let record = try storeCall { () throws(StoreError) in try self.store.insert(bucket, data) }
            if let asName { results[asName] = .object(record) }
        case "store.update":
            let key = try resolve(s["key"]) ?? .null
            let data = try resolveObject(s["data"])
            try budget.checkDepth(.object(data), action)
            try charge(1)
            let record = try storeCall { () throws(StoreError) in try self.store.update(bucket, key, data) }
            if let asName { results[asName] = .object(record) }
        case "store.delete":
            let key = try resolve(s["key"]) ?? .null
            try charge(1)
            try storeCall { () throws(StoreError) in try self.store.delete(bucket, key) }
        case "store.count":
            let filter = s["filter"] == nil ? nil : try resolveObject(s["filter"])
            let n = try storeCall { () throws(StoreError) in try self.store.count(bucket, filter) }
            try charge(1)
            results[asName!] = .int(Int64(n))
        case "aggregate": try aggregate(s)
        case "rules.emit":
            let topic = JSValue.string(try resolve(s["topic"]))
            try check(action, "topic", topic)
            let data = s["data"] == nil ? JSONObject() : try resolveObject(s["data"])
            try budget.checkDepth(.object(data), action)
            try charge(1)
            try rules.emit(topic: topic, data: data)
        case "rules.setFact":
            let key = JSValue.string(try resolve(s["key"]))
            try check(action, "key", key)
            let value = try resolve(s["value"]) ?? .null
            try budget.checkDepth(value, action)
            try charge(1)
            try rules.setFact(key: key, value: value)
        case "rules.getFact":
            let key = JSValue.string(try resolve(s["key"]))
            try check(action, "key", key)
            try charge(1)
            results[asName!] = try rules.getFact(key) ?? .null
        case "if": try condition(s)
        case "transform": try ProcedureTransform.run(s, self)
        default:  // return
            returnValue = try resolve(s["value"])
            returned = true
        }
    }

    /// Stores a transform's output (ProcedureTransform).
    func setResult(_ name: String, _ value: JSON) { results[name] = value }

    func result(_ name: String) -> JSON? { results[name] }

    func resolved(_ v: JSON?) throws(ServerError) -> JSON? { try resolve(v) }

    // MARK: - aggregate, if

    private func aggregate(_ s: JSONObject) throws(ServerError) {
        let sourceName = s["source"]?.stringValue ?? ""
        guard case .array(let items)? = results[sourceName] else {
            throw ServerError(.internalError, "aggregate: source \"\(sourceName)\" is not an array")
        }
        try charge(items.count)
        let field = s["field"]?.stringValue ?? ""
        func number(_ item: JSON) -> Double? {
            guard case .object(let o) = item else { return nil }
            return o[field]?.numberValue
        }
        let value: Double
        switch s["op"]?.stringValue {
        case "count": value = Double(items.count)
        case "sum": value = items.reduce(0) { $0 + (number($1) ?? 0) }
        case "avg": value = items.isEmpty ? 0 : items.reduce(0) { $0 + (number($1) ?? 0) } / Double(items.count)
        case "min": value = items.compactMap(number).min() ?? 0
        default: value = items.compactMap(number).max() ?? 0
        }
        results[s["as"]!.stringValue!] = JSValue.json(value)
    }

    private func condition(_ s: JSONObject) throws(ServerError) {
        let c = s["condition"]?.objectValue ?? JSONObject()
        let actual = templates.ref(c["ref"]?.stringValue ?? "")
        let expected = try resolve(c["value"])
        let holds: Bool
        switch c["operator"]?.stringValue {
        case "eq": holds = JSValue.strictEquals(actual, expected)
        case "neq": holds = !JSValue.strictEquals(actual, expected)
        case "gt": holds = Self.compare(expected, actual, JSValue.less)
        case "gte": holds = Self.compare(expected, actual, JSValue.lessOrEqual)
        case "lt": holds = Self.compare(actual, expected, JSValue.less)
        case "lte": holds = Self.compare(actual, expected, JSValue.lessOrEqual)
        case "exists": holds = actual != nil && actual != .null
        default: holds = actual == nil || actual == .null  // not_exists
        }
        if holds {
            try runSteps(s["then"]?.arrayValue ?? [])
        } else if let otherwise = s["else"]?.arrayValue {
            try runSteps(otherwise)
        }
    }

    /// JavaScript's `<` / `<=` on two values; a missing side (`undefined`) is never in order.
    private static func compare(_ a: JSON?, _ b: JSON?, _ op: (JSON, JSON) -> Bool) -> Bool {
        guard let a, let b else { return false }
        return op(a, b)
    }
}
