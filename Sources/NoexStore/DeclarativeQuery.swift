import NoexJSON

/// A declarative JSON query (docs/protocol/queries.md#declarative-queries, including the cheap parts of the DQL proposal):
///
/// `{bucket, filter?, get? | getMany? | one? | first? | last? | page?, sort?, offset?, limit?,
///   fields? | pluck?, aggregate?, groupBy?, groupFormat?}`
///
/// Parameters: a string that is exactly `{{ params.NAME }}` or an object `{"$param": "NAME"}`
/// anywhere in `filter` (and in `get`/`getMany`/`first`/`last`/`page`/`offset`/`limit`) is
/// replaced by the raw parameter value; a missing parameter is "undefined" (a plain filter
/// entry then matches records lacking the field, an operator is ignored, a limit is dropped).
/// Unknown top-level keys are ignored (upstream leniency).
struct DeclarativeQuery {
    enum Read {
        case list
        case get(JSON)
        case getMany(JSON)
        case one
        case first(JSON)
        case last(JSON)
        case page(after: JSON?, limit: JSON)
    }

    struct Agg {
        var fn: String
        var field: String?
        var filter: JSONObject?
    }

    enum AggregateSpec {
        case single(Agg)
        case named([(String, Agg)])
    }

    var bucket: String
    var filter: JSONObject?
    var read: Read = .list
    var sort: [(field: String, descending: Bool)] = []
    var offset: JSON?
    var limit: JSON?
    var fields: [String]?
    var pluck: String?
    var aggregate: AggregateSpec?
    var groupBy: [String]?
    var groupFormatObject = false
    /// The compiled filter when it has no parameters (compiled once at definition).
    var fixedFilter: Filter?
    /// Derived values: per record for lists (`$field`), over the result for named aggregates (`$ref`).
    var compute: [(name: String, expr: JSON)] = []
    var omit: [String] = []
    /// Per-record joins: `{as: {bucket, key: Expr}}` (record or null, record-level dependency) or
    /// `{as: {bucket, filter, ...}}` (records; the filter may use `{"$field": f}` of the outer record).
    var lookups: [(name: String, bucket: String, key: JSON?, query: DeclarativeQuery?)] = []
    var declaredParams = ParamDeclarations()

    init(config c: JSONObject) throws(StoreError) {
        guard let b = c["bucket"]?.stringValue, !b.isEmpty else {
            throw .invalidQuery("Query config must include non-empty string \"bucket\"")
        }
        bucket = b
        if let f = c["filter"], !f.isNull {
            guard let o = f.objectValue else { throw .invalidQuery("Query \"filter\" must be an object") }
            try Filter.validate(o, allowReferences: true)
            // Template strings become {"$param": name} once, so evaluation does no string work.
            var usesParams = false
            filter = Self.normalizeTemplates(.object(o), &usesParams).objectValue!
            if !usesParams { fixedFilter = Filter(filter!) }
        }
        var reads: [Read] = []
        if let v = c["get"] { reads.append(.get(v)) }
        if let v = c["getMany"] { reads.append(.getMany(v)) }
        if let v = c["one"], JSValue.truthy(v) { reads.append(.one) }
        if let v = c["first"] { try Self.checkCount(v, "first"); reads.append(.first(v)) }
        if let v = c["last"] { try Self.checkCount(v, "last"); reads.append(.last(v)) }
        if let v = c["page"] {
            guard let p = v.objectValue, let l = p["limit"] else {
                throw .invalidQuery("Query \"page\" must be an object with \"limit\"")
            }
            try Self.checkCount(l, "page.limit")
            reads.append(.page(after: p["after"], limit: l))
        }
        if reads.count > 1 { throw .invalidQuery("Query may use only one of get, getMany, one, first, last, page") }
        read = reads.first ?? .list
        switch read {
        case .get, .first, .last, .page:
            if let f = filter, !f.isEmpty {
                throw .invalidQuery("Query \"filter\" cannot be combined with get, first, last or page")
            }
        default: break
        }

        if let s = c["sort"] {
            switch s {
            case .object(let o):
                for (f, d) in o { sort.append((f, try Self.direction(d))) }
            case .array(let a):
                for e in a {
                    guard let o = e.objectValue, let f = o["field"]?.stringValue else {
                        throw .invalidQuery("Query \"sort\" entries must be {field, dir}")
                    }
                    sort.append((f, try Self.direction(o["dir"] ?? "asc")))
                }
            default: throw .invalidQuery("Query \"sort\" must be an object or an array")
            }
        }
        if let v = c["offset"] { try Self.checkCount(v, "offset", allowZero: true); offset = v }
        if let v = c["limit"] { try Self.checkCount(v, "limit", allowZero: true); limit = v }
        if let f = c["fields"] {
            guard let a = f.arrayValue, a.allSatisfy({ $0.stringValue != nil }) else {
                throw .invalidQuery("Query \"fields\" must be an array of strings")
            }
            fields = a.map { $0.stringValue! }
        }
        if let p = c["pluck"] {
            guard let s = p.stringValue else { throw .invalidQuery("Query \"pluck\" must be a string") }
            pluck = s
        }
        if let a = c["aggregate"], !a.isNull {
            guard let o = a.objectValue else { throw .invalidQuery("Query \"aggregate\" must be an object") }
            if o["function"] != nil || o["fn"] != nil {
                aggregate = .single(try Self.agg(o))
            } else {
                var named: [(String, Agg)] = []
                for (name, v) in o {
                    guard let ao = v.objectValue else { throw .invalidQuery("Aggregate \"\(name)\" must be an object") }
                    named.append((name, try Self.agg(ao)))
                }
                aggregate = .named(named)
            }
            switch read {
            case .list, .getMany: break
            default: throw .invalidQuery("Query \"aggregate\" cannot be combined with get, one, first, last or page")
            }
        }
        if let g = c["groupBy"] {
            if let s = g.stringValue {
                groupBy = [s]
            } else if let a = g.arrayValue, a.allSatisfy({ $0.stringValue != nil }) {
                groupBy = a.map { $0.stringValue! }
            } else {
                throw .invalidQuery("Query \"groupBy\" must be a string or an array of strings")
            }
            if aggregate == nil { throw .invalidQuery("Query \"groupBy\" needs \"aggregate\"") }
        }
        groupFormatObject = c["groupFormat"]?.stringValue == "object"
        (compute, omit) = try Self.parseCompute(c)
        declaredParams = try ParamDeclarations(c)
        if let l = c["lookup"] {
            guard let o = l.objectValue else { throw .invalidQuery("Query \"lookup\" must be an object") }
            for (name, v) in o {
                guard let lo = v.objectValue, let b = lo["bucket"]?.stringValue else {
                    throw .invalidQuery("Lookup \"\(name)\" needs a \"bucket\"")
                }
                if let key = lo["key"] {
                    lookups.append((name, b, key, nil))
                } else {
                    lookups.append((name, b, nil, try DeclarativeQuery(config: lo)))
                }
            }
        }
    }

    static func parseCompute(_ c: JSONObject) throws(StoreError) -> ([(name: String, expr: JSON)], [String]) {
        var compute: [(name: String, expr: JSON)] = []
        if let v = c["compute"] {
            guard let o = v.objectValue else { throw .invalidQuery("Query \"compute\" must be an object") }
            compute = o.map { ($0.key, $0.value) }
        }
        var omit: [String] = []
        if let v = c["omit"] {
            guard let a = v.arrayValue, a.allSatisfy({ $0.stringValue != nil }) else {
                throw .invalidQuery("Query \"omit\" must be an array of strings")
            }
            omit = a.map { $0.stringValue! }
        }
        return (compute, omit)
    }

    /// Applies `compute` then `omit` to an object result, each computed value visible to later ones.
    static func derive(_ object: JSONObject, _ compute: [(name: String, expr: JSON)], _ omit: [String], _ env: QueryEnv,
                       record: Bool) -> JSONObject {
        guard !compute.isEmpty || !omit.isEmpty else { return object }
        var out = object
        var e = env
        for (name, expr) in compute {
            if record { e.record = out } else { for (k, v) in out { e.refs[k] = v } }
            out[name] = QueryExpression.eval(expr, e)
        }
        for name in omit { out.removeValue(forKey: name) }
        return out
    }

    private func finishAggregate(_ result: JSON, _ env: QueryEnv) -> JSON {
        guard case .object(let o) = result, case .named? = aggregate, groupBy == nil else { return result }
        return .object(Self.derive(o, compute, omit, env, record: false))
    }

    private static func direction(_ d: JSON) throws(StoreError) -> Bool {
        switch d.stringValue {
        case "asc"?: return false
        case "desc"?: return true
        default: throw .invalidQuery("Query sort direction must be \"asc\" or \"desc\"")
        }
    }

    private static func agg(_ o: JSONObject) throws(StoreError) -> Agg {
        let fn = (o["fn"] ?? o["function"])?.stringValue ?? ""
        guard ["count", "sum", "avg", "min", "max", "collect"].contains(fn) else {
            throw .invalidQuery("Unknown aggregate function \"\(fn)\"")
        }
        if fn != "count" && o["field"]?.stringValue == nil {
            throw .invalidQuery("Aggregate \"\(fn)\" needs a \"field\"")
        }
        if let f = o["filter"], f.objectValue == nil { throw .invalidQuery("Aggregate \"filter\" must be an object") }
        return Agg(fn: fn, field: o["field"]?.stringValue, filter: o["filter"]?.objectValue)
    }

    /// Literal counts must be non-negative integers; parameter references are checked at run time.
    private static func checkCount(_ v: JSON, _ what: String, allowZero: Bool = false) throws(StoreError) {
        if isParamReference(v) { return }
        guard let i = v.intValue, allowZero ? i >= 0 : i >= 1 else {
            throw .invalidQuery("Query \"\(what)\" must be a \(allowZero ? "non-negative" : "positive") integer")
        }
    }

    // MARK: parameters

    static func isParamReference(_ v: JSON) -> Bool {
        if case .string(let s) = v { return templateName(s) != nil }
        if case .object(let o) = v { return o.count == 1 && o["$param"]?.stringValue != nil }
        return false
    }

    /// `NAME` of a string that is exactly `{{ params.NAME }}` (spaces optional, NAME = `\w+`).
    static func templateName(_ s: String) -> String? {
        guard s.hasPrefix("{{"), s.hasSuffix("}}"), s.utf8.count >= 4 else { return nil }
        let inner = String(s.dropFirst(2).dropLast(2)).trimmingJSWhitespace()
        guard inner.hasPrefix("params.") else { return nil }
        let name = inner.dropFirst("params.".count)
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }) else {
            return nil
        }
        return String(name)
    }

    /// nil: not a reference; `.some(nil)`: a reference to something absent; else its value.
    static func resolve(_ v: JSON, _ env: QueryEnv) -> JSON?? { env.reference(v) }

    /// Replaces every whole-string template `{{ params.x }}` by `{"$param": "x"}`.
    static func normalizeTemplates(_ v: JSON, _ usesParams: inout Bool) -> JSON {
        switch v {
        case .string(let s):
            guard let name = templateName(s) else { return v }
            usesParams = true
            return ["$param": .string(name)]
        case .array(let a): return .array(a.map { normalizeTemplates($0, &usesParams) })
        case .object(let o):
            if o.count == 1, let k = o.keys.first, ["$param", "$ref", "$field"].contains(k) { usesParams = true; return v }
            var out = JSONObject(minimumCapacity: o.count)
            for (k, x) in o { out[k] = normalizeTemplates(x, &usesParams) }
            return .object(out)
        default: return v
        }
    }

    /// Reference resolution after `normalizeTemplates`: only single-key `$param`/`$ref`/`$field` objects.
    static func resolveNormalized(_ v: JSON, _ env: QueryEnv) -> JSON?? {
        guard case .object(let o) = v, o.count == 1 else { return nil }
        return env.reference(v)
    }

    /// A Value or expression (`getMany: {"$distinct": ...}`); an absent reference stays nil.
    static func value(_ v: JSON, _ env: QueryEnv) -> JSON? {
        if let r = resolve(v, env) { return r }
        return QueryExpression.eval(v, env)
    }

    static func count(_ v: JSON?, _ env: QueryEnv) -> Int? {
        guard let v, let r = value(v, env), let i = r.intValue else { return nil }
        return Int(clamping: i)
    }

    /// The bucket and bound filter when records outside the filter cannot affect the result:
    /// list reads (with any aggregate, sort, offset, limit, projection) and `one`.
    /// Slices (`first`, `last`, `page`) and key reads are position- or key-based: nil.
    func relevanceFilter(params: JSON?) -> (bucket: String, filter: Filter)? {
        guard let bound = try? declaredParams.apply(params) else { return nil }
        let env = QueryEnv(params: bound)
        switch read {
        case .list, .one: break
        default: return nil
        }
        if !lookups.isEmpty { return nil }  // joined data can change with any record
        let f = fixedFilter ?? filter.map { Filter($0, resolve: { Self.resolveNormalized($0, env) }) } ?? Filter()
        return (bucket, f)
    }

    /// Every bucket this query reads (its own and its lookups').
    var buckets: [String] { [bucket] + lookups.flatMap { $0.query?.buckets ?? [$0.bucket] } }

    // MARK: evaluation

    func run(_ ctx: QueryContext, params: JSON?) throws(StoreError) -> JSON {
        try run(ctx, env: QueryEnv(params: try declaredParams.apply(params)))
    }

    func run(_ ctx: QueryContext, env: QueryEnv) throws(StoreError) -> JSON {
        let compiled = fixedFilter ?? filter.map { Filter($0, resolve: { Self.resolveNormalized($0, env) }) } ?? Filter()
        var records: [JSONObject]
        switch read {
        case .get(let k):
            guard let key = Self.value(k, env), !key.isNull else { return .null }
            return try ctx.get(bucket: bucket, key: key).map { project($0) } ?? .null
        case .getMany(let k):
            records = []
            for key in Self.value(k, env)?.arrayValue ?? [] where !key.isNull {
                if let r = try ctx.get(bucket: bucket, key: key), compiled.matches(r) { records.append(r) }
            }
        case .one:
            return try ctx.select(bucket: bucket, filter: compiled, limit: 1).first.map { project($0) } ?? .null
        case .first(let n):
            records = try ctx.first(bucket: bucket, n: Self.count(n, env) ?? 0)
        case .last(let n):
            records = try ctx.last(bucket: bucket, n: Self.count(n, env) ?? 0)
        case .page(let after, let limit):
            let a: JSON? = after.flatMap { Self.value($0, env) }
            let page = try ctx.paginate(bucket: bucket, after: a, limit: Self.count(limit, env) ?? 0)
            return [
                "records": .array(page.records.map { project($0) }), "hasMore": .bool(page.hasMore),
                "nextCursor": page.nextCursor ?? .null,
            ]
        case .list:
            if case .single(let a)? = aggregate, a.fn == "count", a.filter == nil, groupBy == nil {
                return .int(Int64(try ctx.count(bucket: bucket, filter: compiled)))  // no materializing
            }
            records = compiled.isEmpty ? try ctx.all(bucket: bucket) : try ctx.select(bucket: bucket, filter: compiled)
        }
        if let aggregate { return finishAggregate(aggregateResult(aggregate, records, env), env) }
        if !sort.isEmpty { records = sorted(records) }
        if let o = Self.count(offset, env), o > 0 { records = Array(records.dropFirst(o)) }
        if let l = Self.count(limit, env), l >= 0 { records = Array(records.prefix(l)) }
        if !lookups.isEmpty {
            var joined: [JSONObject] = []
            joined.reserveCapacity(records.count)
            for r in records {
                var out = r
                var e = env
                e.record = r
                for (name, b, key, query) in lookups {
                    if let key {
                        if let k = Self.value(key, e), !k.isNull, let found = try ctx.get(bucket: b, key: k) {
                            out[name] = .object(found)
                        } else {
                            out[name] = .null
                        }
                    } else if let query {
                        out[name] = try query.run(ctx, env: e)
                    }
                }
                joined.append(out)
            }
            records = joined
        }
        if !compute.isEmpty || !omit.isEmpty {
            records = records.map { Self.derive($0, compute, omit, env, record: true) }
        }
        if let pluck { return .array(records.map { $0[pluck] ?? .null }) }
        return .array(records.map { project($0) })
    }

    private func project(_ r: JSONObject) -> JSON {
        guard let fields, !fields.isEmpty else { return .object(r) }
        var o = JSONObject(minimumCapacity: fields.count)
        for f in fields { if let v = r[f] { o[f] = v } }
        return .object(o)
    }

    /// Stable multi-key sort: `null`/missing last in both directions; JS `<` otherwise;
    /// incomparable values count as equal and stop the comparison (the original's rule).
    ///
    /// Each record's sort values are read once, before sorting, and positions are sorted, not
    /// records: a comparison reads the values from `keys` instead of looking them up in both
    /// records' objects by name (a query re-run on every change of a fan-out spent most of its
    /// time in those lookups and the records' reference counting).
    private func sorted(_ records: [JSONObject]) -> [JSONObject] {
        let width = sort.count
        var keys: [JSON?] = []
        keys.reserveCapacity(records.count * width)
        for r in records {
            for (field, _) in sort { keys.append(r[field]) }
        }
        if width == 1, let order = Self.numericOrder(keys, descending: sort[0].descending) {
            return order.map { records[$0] }
        }
        let sort = self.sort
        let order = keys.withUnsafeBufferPointer { keys in
            Array(records.indices).sorted { x, y in
                for k in 0..<width {
                    let desc = sort[k].descending
                    let a = keys[x * width + k], b = keys[y * width + k]
                    if JSValue.strictEquals(a, b) { continue }
                    let aNull = a == nil || a!.isNull, bNull = b == nil || b!.isNull
                    if aNull && bNull { continue }
                    if aNull { return false }
                    if bNull { return true }
                    if JSValue.less(a!, b!) { return !desc }
                    if JSValue.less(b!, a!) { return desc }
                    break
                }
                return x < y
            }
        }
        return order.map { records[$0] }
    }

    /// The order of a one-key sort whose values are all numbers, compared as `JSValue.less`
    /// compares them (two ints exactly, an int and a double as doubles) but without going
    /// through JSON values; ties keep the records' order. With one key, equal values and
    /// values neither less nor greater (NaN) both fall through to that order, as in `sorted`.
    /// nil when a value is missing or not a number, or when ints beyond ±2^53 meet doubles.
    private static func numericOrder(_ keys: [JSON?], descending: Bool) -> [Int]? {
        var ints: [Int64] = []
        ints.reserveCapacity(keys.count)
        var onlyInts = true
        for k in keys {
            switch k {
            case .int(let i)?: ints.append(i)
            case .double?: onlyInts = false
            default: return nil
            }
        }
        if onlyInts { return positions(sortedBy: ints, descending: descending) }
        var doubles: [Double] = []
        doubles.reserveCapacity(keys.count)
        for k in keys {
            switch k {
            case .int(let i)?:
                guard i.magnitude <= 1 << 53 else { return nil }
                doubles.append(Double(i))
            case .double(let d)?: doubles.append(d)
            default: return nil
            }
        }
        return positions(sortedBy: doubles, descending: descending)
    }

    private static func positions<T: Comparable>(sortedBy values: [T], descending: Bool) -> [Int] {
        values.withUnsafeBufferPointer { v in
            Array(v.indices).sorted { x, y in
                if v[x] < v[y] { return !descending }
                if v[y] < v[x] { return descending }
                return x < y
            }
        }
    }

    private func aggregateResult(_ spec: AggregateSpec, _ records: [JSONObject], _ env: QueryEnv) -> JSON {
        func compute(_ rs: [JSONObject]) -> JSON {
            switch spec {
            case .single(let a): return Self.apply(a, rs, env)
            case .named(let list):
                var o = JSONObject(minimumCapacity: list.count)
                for (name, a) in list { o[name] = Self.apply(a, rs, env) }
                return .object(o)
            }
        }
        guard let groupBy else { return compute(records) }
        var order: [[JSON]] = []
        var groups: [[JSON]: [JSONObject]] = [:]
        for r in records {
            let k = groupBy.map { r[$0] ?? .null }
            if groups[k] == nil { order.append(k) }
            groups[k, default: []].append(r)
        }
        if groupFormatObject && groupBy.count == 1 {
            var o = JSONObject(minimumCapacity: order.count)
            for k in order { o[JSValue.string(k[0])] = compute(groups[k]!) }
            return .object(o)
        }
        return .array(order.map { k in
            var key = JSONObject()
            for (f, v) in zip(groupBy, k) { key[f] = v }
            var row: JSONObject = ["key": .object(key)]
            switch compute(groups[k]!) {
            case .object(let named) where { if case .named = spec { return true } else { return false } }():
                for (n, v) in named { row[n] = v }
            case let v: row["value"] = v
            }
            return .object(row)
        })
    }

    private static func apply(_ a: Agg, _ records: [JSONObject], _ env: QueryEnv) -> JSON {
        var rs = records
        if let f = a.filter {
            let compiled = Filter(f, resolve: { resolve($0, env) })
            rs = rs.filter(compiled.matches)
        }
        let field = a.field ?? ""
        switch a.fn {
        case "count": return .int(Int64(rs.count))
        case "sum": return Aggregate.sum(rs, field)
        case "avg": return Aggregate.avg(rs, field)
        case "min": return Aggregate.min(rs, field)
        case "max": return Aggregate.max(rs, field)
        default: return .array(rs.compactMap { r in r[field]?.nonNull })
        }
    }
}

/// A DQL shape (docs/protocol/queries.md#declarative-queries): named parts evaluated in order, each a query or an expression,
/// optionally guarded by `when` (a skipped part reads nothing, so adds no dependency) and
/// `required` (a null result makes the whole result null); then `compute`, `omit`, `format`.
struct ShapeQuery {
    struct Part {
        var name: String
        var query: DeclarativeQuery?
        var expr: JSON
        var when: JSON?
        var elseValue: JSON
        var required: Bool
    }

    var parts: [Part] = []
    var compute: [(name: String, expr: JSON)] = []
    var omit: [String] = []
    var formatArray = false
    var declaredParams = ParamDeclarations()

    init(config c: JSONObject) throws(StoreError) {
        declaredParams = try ParamDeclarations(c)
        guard let list = c["shape"]?.arrayValue, !list.isEmpty else {
            throw .invalidQuery("Query \"shape\" must be a non-empty array")
        }
        for entry in list {
            guard let o = entry.objectValue, let name = o["as"]?.stringValue, !name.isEmpty, let q = o["query"] else {
                throw .invalidQuery("Every shape part needs \"as\" and \"query\"")
            }
            var query: DeclarativeQuery?
            if let qo = q.objectValue, qo["bucket"] != nil { query = try DeclarativeQuery(config: qo) }
            parts.append(Part(name: name, query: query, expr: q, when: o["when"], elseValue: o["else"] ?? .null,
                              required: JSValue.truthy(o["required"])))
        }
        (compute, omit) = try DeclarativeQuery.parseCompute(c)
        formatArray = c["format"]?.stringValue == "array"
    }

    var buckets: [String] { parts.flatMap { $0.query?.buckets ?? [] } }

    func run(_ ctx: QueryContext, params: JSON?) throws(StoreError) -> JSON {
        var env = QueryEnv(params: try declaredParams.apply(params))
        var result = JSONObject(minimumCapacity: parts.count)
        for part in parts {
            var value: JSON
            if let when = part.when, !JSValue.truthy(QueryExpression.eval(when, env)) {
                value = part.elseValue
            } else if let q = part.query {
                value = try q.run(ctx, env: env)
            } else {
                value = QueryExpression.eval(part.expr, env)
            }
            if part.required && value.isNull { return .null }
            result[part.name] = value
            env.refs[part.name] = value
        }
        result = DeclarativeQuery.derive(result, compute, omit, env, record: false)
        if formatArray { return .array(result.map(\.value)) }
        return .object(result)
    }
}
