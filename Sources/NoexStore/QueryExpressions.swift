import NoexJSON

/// What a declarative query's values can refer to: the subscription's parameters, the results of
/// earlier shape parts or aggregates (`$ref`), and the current record (`$field`).
struct QueryEnv {
    var params: JSON?
    var refs = JSONObject()
    var record: JSONObject?

    init(params: JSON?) { self.params = params }

    /// `{"$ref": "name.path.0.field"}`: numeric segments index arrays; missing → nil.
    func ref(_ path: String) -> JSON? {
        var parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty, var cur = refs[parts.removeFirst()] else { return nil }
        for p in parts {
            switch cur {
            case .object(let o): guard let n = o[p] else { return nil }; cur = n
            case .array(let a): guard let i = Int(p), i >= 0, i < a.count else { return nil }; cur = a[i]
            default: return nil
            }
        }
        return cur
    }

    /// nil: `v` is not a reference; `.some(nil)`: a reference to something absent.
    func reference(_ v: JSON) -> JSON?? {
        switch v {
        case .string(let s):
            guard let name = DeclarativeQuery.templateName(s) else { return nil }
            return .some(params?[name])
        case .object(let o):
            guard let (k, arg) = o.soleEntry else { return nil }
            guard let name = arg.stringValue else { return nil }
            switch k {
            case "$param": return .some(params?[name])
            case "$ref": return .some(ref(name))
            case "$field": return .some(record?[name])
            default: return nil
            }
        default: return nil
        }
    }
}

/// The expression language of the DQL proposal (docs/protocol/queries.md#declarative-queries `Expr`), evaluated on JSON.
/// Absent values evaluate to `null`; arithmetic on `null` or non-numbers gives `null`;
/// `$div` by zero gives `null`; `$round` rounds half away from zero.
enum QueryExpression {
    static func eval(_ v: JSON, _ env: QueryEnv) -> JSON {
        if let r = env.reference(v) { return r ?? .null }
        guard case .object(let o) = v, let (op, arg) = o.soleEntry, op.hasPrefix("$") else {
            if case .array(let a) = v { return .array(a.map { eval($0, env) }) }
            return v
        }
        // unary operators take their operand as is; the others take an argument list
        let unary = op == "$size" || op == "$not" || op == "$distinct"
        let args: [JSON] = unary ? [eval(arg, env)] : (arg.arrayValue ?? [arg]).map { eval($0, env) }
        func nums() -> [Double]? {
            let n = args.compactMap(\.numberValue)
            return n.count == args.count ? n : nil
        }
        switch op {
        case "$add": return nums().map { JSValue.json($0.reduce(0, +)) } ?? .null
        case "$mul": return nums().map { JSValue.json($0.reduce(1, *)) } ?? .null
        case "$sub":
            guard let n = nums(), n.count == 2 else { return .null }
            return JSValue.json(n[0] - n[1])
        case "$div":
            guard let n = nums(), n.count == 2, n[1] != 0 else { return .null }
            return JSValue.json(n[0] / n[1])
        case "$round":
            guard let x = args.first?.numberValue else { return .null }
            let digits = args.count > 1 ? (args[1].numberValue ?? 0) : 0
            var scale = 1.0
            for _ in 0..<Int(Swift.max(0, Swift.min(digits, 15))) { scale *= 10 }
            return JSValue.json((x * scale).rounded(.toNearestOrAwayFromZero) / scale)
        case "$coalesce": return args.first { !$0.isNull } ?? .null
        case "$cond":
            guard args.count == 3 else { return .null }
            return truthy(args[0]) ? args[1] : args[2]
        case "$eq", "$ne", "$gt", "$gte", "$lt", "$lte":
            guard args.count == 2 else { return .null }
            let (a, b) = (args[0], args[1])
            switch op {
            case "$eq": return .bool(a == b)
            case "$ne": return .bool(a != b)
            case "$gt": return .bool(!a.isNull && !b.isNull && JSValue.less(b, a))
            case "$gte": return .bool(!a.isNull && !b.isNull && JSValue.lessOrEqual(b, a))
            case "$lt": return .bool(!a.isNull && !b.isNull && JSValue.less(a, b))
            default: return .bool(!a.isNull && !b.isNull && JSValue.lessOrEqual(a, b))
            }
        case "$and": return .bool(args.allSatisfy(truthy))
        case "$or": return .bool(args.contains(where: truthy))
        case "$not": return .bool(!truthy(args.first ?? .null))
        case "$size":
            switch args.first ?? .null {
            case .array(let a): return .int(Int64(a.count))
            case .object(let o): return .int(Int64(o.count))
            case .string(let s): return .int(Int64(s.utf16.count))
            default: return .null
            }
        case "$pluck":
            guard args.count == 2, let list = args[0].arrayValue, let f = args[1].stringValue else { return .null }
            return .array(list.map { $0[f] ?? .null })
        case "$distinct":
            guard let list = args.first?.arrayValue else { return .null }
            var out: [JSON] = []
            for x in list where !out.contains(x) { out.append(x) }
            return .array(out)
        default: return v  // not an expression: a literal object
        }
    }

    static func truthy(_ v: JSON) -> Bool { JSValue.truthy(v) }
}

extension JSONObject {
    /// The only member of a one-member object, else nil.
    var soleEntry: (key: String, value: JSON)? {
        guard count == 1 else { return nil }
        var it = makeIterator()
        return it.next()
    }
}

/// Declared query parameters (docs/protocol/queries.md#declarative-queries `params`): `{name: {type?, required?, default?}}`,
/// checked and defaulted before every evaluation (`VALIDATION_ERROR` on a violation).
struct ParamDeclarations {
    var entries: [(name: String, type: String?, required: Bool, defaultValue: JSON?)] = []

    init() {}

    init(_ config: JSONObject) throws(StoreError) {
        guard let p = config["params"] else { return }
        guard let o = p.objectValue else { throw .invalidQuery("Query \"params\" must be an object") }
        for (name, d) in o {
            guard let dobj = d.objectValue else { throw .invalidQuery("Parameter \"\(name)\" must be declared with an object") }
            entries.append((name, dobj["type"]?.stringValue, JSValue.truthy(dobj["required"]), dobj["default"]))
        }
    }

    /// The params with defaults applied; throws when a required one is missing or mistyped.
    func apply(_ params: JSON?) throws(StoreError) -> JSON? {
        guard !entries.isEmpty else { return params }
        var out = params?.objectValue ?? JSONObject()
        for (name, type, required, def) in entries {
            var v = out[name]
            if v == nil || v!.isNull, let def { v = def; out[name] = def }
            guard let value = v, !value.isNull else {
                if required { throw .invalidQuery("Missing required parameter \"\(name)\"") }
                continue
            }
            if let type, !SchemaValidator.typeMatches(value, type) {
                throw .invalidQuery("Parameter \"\(name)\" must be of type \"\(type)\", got \(value.typeName)")
            }
        }
        return .object(out)
    }
}
