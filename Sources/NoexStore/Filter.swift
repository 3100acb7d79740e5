import NoexJSON

/// A compiled `where` filter (docs/protocol/queries.md#filters): plain strict-equality entries, operator objects
/// (`$eq`, `$gt`, `$in`, `$contains`, ...) and nested `$or` / `$and`, all AND-ed.
///
/// Compiling once per call keeps matching a tight loop. `nil` operands stand for JavaScript
/// `undefined` (a missing query parameter), which plain entries match against missing fields and
/// which makes an operator be ignored.
struct Filter {
    indirect enum Clause {
        case equals(field: String, value: JSON?)
        case ops(field: String, [Op])
        case or([Filter])
        case and([Filter])
        /// `{"$expr": Expr}`: a record-level boolean (field-to-field comparisons via `$field`).
        case expr(JSON)
    }

    enum Op {
        case eq(JSON), neq(JSON)
        case gt(JSON), gte(JSON), lt(JSON), lte(JSON)
        case inList([JSON]?), notInList([JSON]?)
        case contains(String?), startsWith(String?), endsWith(String?)
        case exists(JSON)
        case between(JSON?, JSON?)
    }

    var clauses: [Clause] = []

    var isEmpty: Bool { clauses.isEmpty }

    /// Resolves `{{ params.x }}` / `{"$param": x}` in declarative queries; nil for plain filters.
    typealias Resolver = (JSON) -> JSON??

    init() {}

    init(_ object: JSONObject, resolve: Resolver? = nil) {
        for (field, raw) in object {
            if field == "$expr" {
                clauses.append(.expr(Self.bindReferences(raw, resolve)))
                continue
            }
            if field == "$or" || field == "$and" {
                guard case .array(let branches) = raw else { continue }  // malformed: ignored
                let subs = branches.map { Filter($0.objectValue ?? JSONObject(), resolve: resolve) }
                clauses.append(field == "$or" ? .or(subs) : .and(subs))
                continue
            }
            var value: JSON? = raw
            if let resolve, let r = resolve(raw) { value = r }
            if let v = value, case .object(let o) = v, !o.isEmpty, o.allSatisfy({ $0.key.hasPrefix("$") }) {
                clauses.append(.ops(field: field, Self.compileOps(o, resolve: resolve)))
            } else {
                clauses.append(.equals(field: field, value: value))
            }
        }
    }

    /// Substitutes `$param`/`$ref` references now (they are fixed per evaluation) and keeps
    /// `$field`, which is read per record.
    static func bindReferences(_ v: JSON, _ resolve: Resolver?) -> JSON {
        switch v {
        case .object(let o):
            if let (k, _) = o.soleEntry, k == "$field" { return v }
            if let resolve, let r = resolve(v) { return r ?? .null }
            var out = JSONObject(minimumCapacity: o.count)
            for (k, x) in o { out[k] = bindReferences(x, resolve) }
            return .object(out)
        case .array(let a): return .array(a.map { bindReferences($0, resolve) })
        case .string:
            if let resolve, let r = resolve(v) { return r ?? .null }
            return v
        default: return v
        }
    }

    private static func compileOps(_ o: JSONObject, resolve: Resolver?) -> [Op] {
        var ops: [Op] = []
        func res(_ v: JSON) -> JSON? {
            if let resolve, let r = resolve(v) { return r }
            return v
        }
        for (name, raw) in o {
            guard let v = res(raw) else { continue }  // undefined operand: operator ignored
            switch name {
            case "$eq": ops.append(.eq(v))
            case "$neq", "$ne": ops.append(.neq(v))
            case "$gt": ops.append(.gt(v))
            case "$gte": ops.append(.gte(v))
            case "$lt": ops.append(.lt(v))
            case "$lte": ops.append(.lte(v))
            case "$in": ops.append(.inList(v.arrayValue?.compactMap(res)))
            case "$nin": ops.append(.notInList(v.arrayValue?.compactMap(res)))
            case "$contains": ops.append(.contains(v.stringValue))
            case "$startsWith": ops.append(.startsWith(v.stringValue))
            case "$endsWith": ops.append(.endsWith(v.stringValue))
            case "$exists": ops.append(.exists(v))
            case "$between":
                if let a = v.arrayValue, a.count >= 2 {
                    ops.append(.between(res(a[0]), res(a[1])))
                } else {
                    ops.append(.between(nil, nil))
                }
            default: continue  // unknown operators are ignored (match)
            }
        }
        return ops
    }

    func matches(_ record: JSONObject) -> Bool {
        for clause in clauses {
            switch clause {
            case .equals(let field, let value):
                if !JSValue.strictEquals(record[field], value) { return false }
            case .ops(let field, let ops):
                let v = record[field]
                for op in ops where !Self.apply(op, v) { return false }
            case .or(let subs):
                if !subs.contains(where: { $0.matches(record) }) { return false }
            case .and(let subs):
                if !subs.allSatisfy({ $0.matches(record) }) { return false }
            case .expr(let e):
                var env = QueryEnv(params: nil)
                env.record = record
                if !JSValue.truthy(QueryExpression.eval(e, env)) { return false }
            }
        }
        return true
    }

    private static func apply(_ op: Op, _ v: JSON?) -> Bool {
        switch op {
        case .eq(let x): return JSValue.strictEquals(v, x)
        case .neq(let x): return !JSValue.strictEquals(v, x)
        case .gt(let x): guard let v, !v.isNull else { return false }; return JSValue.less(x, v)
        case .gte(let x): guard let v, !v.isNull else { return false }; return JSValue.lessOrEqual(x, v)
        case .lt(let x): guard let v, !v.isNull else { return false }; return JSValue.less(v, x)
        case .lte(let x): guard let v, !v.isNull else { return false }; return JSValue.lessOrEqual(v, x)
        case .inList(let list):
            guard let list else { return false }
            return list.contains { JSValue.sameValueZero($0, v) }
        case .notInList(let list):
            guard let list else { return true }
            return !list.contains { JSValue.sameValueZero($0, v) }
        case .contains(let s):
            guard let s, case .string(let str)? = v else { return false }
            return str.lowercased().utf16Contains(s.lowercased())
        case .startsWith(let s):
            guard let s, case .string(let str)? = v else { return false }
            return str.utf16HasPrefix(s)
        case .endsWith(let s):
            guard let s, case .string(let str)? = v else { return false }
            return str.utf16HasSuffix(s)
        case .exists(let want):
            guard case .bool(let b) = want else { return false }
            return (v != nil && !v!.isNull) == b
        case .between(let lo, let hi):
            guard let v, !v.isNull, let lo, let hi else { return false }
            return JSValue.lessOrEqual(lo, v) && JSValue.lessOrEqual(v, hi)
        }
    }

    /// The first plain entry (in filter order) whose field is in `indexed` and whose value can
    /// be looked up in an index (a non-null scalar). `null`/`undefined` values fall back to a scan.
    func indexCandidate(indexed: (String) -> Bool) -> (field: String, value: JSON)? {
        for clause in clauses {
            if case .equals(let field, let value?) = clause, indexed(field) {
                switch value {
                case .null: continue
                default: return (field, value)
                }
            }
        }
        return nil
    }
}
