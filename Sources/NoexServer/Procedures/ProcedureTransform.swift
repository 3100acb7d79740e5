import NoexJSON

/// The `transform` step (docs/procedures.md#steps): `pluck`, `pick`, `filter` and `map` over a
/// stored result, charged to the call's item budget by the elements they visit and build.
enum ProcedureTransform {
    static func run(_ s: JSONObject, _ call: ProcedureRun) throws(ServerError) {
        let sourceName = s["source"]?.stringValue ?? ""
        let operation = s["operation"]?.stringValue ?? ""
        let asName = s["as"]?.stringValue ?? ""
        let source = call.result(sourceName)
        let args = s["args"] ?? .null
        func notA(_ kind: String) -> ServerError {
            ServerError(.internalError, "transform.\(operation): source \"\(sourceName)\" is not \(kind)")
        }
        func badArgs(_ expected: String) -> ServerError {
            ServerError(.validationError, "transform.\(operation): \"args\" must be \(expected)")
        }
        switch operation {
        case "pluck":
            guard case .array(let items)? = source else { throw notA("an array") }
            let field = JSValue.string(args)
            try call.budget.charge(items.count)
            call.setResult(asName, .array(items.map { member($0, field) ?? .null }))
        case "pick":
            guard case .object(let o)? = source else { throw notA("an object") }
            let fields: [String]
            switch args {
            case .array(let a): fields = a.map { JSValue.string($0) }
            case .string(let text): fields = text.map(String.init)  // a string iterates its characters
            default: throw badArgs("an array of field names")
            }
            var picked = JSONObject()
            for f in fields { if let v = o[f] { picked[f] = v } }
            try call.budget.charge(fields.count)
            call.setResult(asName, .object(picked))
        case "filter":
            guard case .array(let items)? = source else { throw notA("an array") }
            guard case .object(let wanted)? = try call.resolved(args) else { throw badArgs("an object of field values") }
            let kept = items.filter { item in
                guard item.objectValue != nil || item.arrayValue != nil else { return false }
                return wanted.allSatisfy { JSValue.strictEquals(member(item, $0.key), $0.value) }
            }
            try call.budget.charge(items.count)
            call.setResult(asName, .array(kept))
        default:  // map
            guard case .array(let items)? = source else { throw notA("an array") }
            guard case .object(let extra)? = try call.resolved(args) else { throw badArgs("an object of fields to set") }
            // Charged before the copies are made: the budget bounds the memory they take.
            try call.budget.charge(items.count)
            try call.budget.charge(copiesOf: .object(extra), times: items.count)
            let mapped: [JSON] = items.map { item in
                var o: JSONObject
                switch item {
                case .object(let existing): o = existing
                case .array(let a): o = JSONObject(a.enumerated().map { (String($0.offset), $0.element) })
                default: return item
                }
                for (k, v) in extra { o[k] = v }
                return .object(o)
            }
            call.setResult(asName, .array(mapped))
        }
    }

    /// `item[field]` for an object or an array (index or `length`); nothing otherwise.
    private static func member(_ item: JSON, _ field: String) -> JSON? {
        switch item {
        case .object(let o): return o[field]
        case .array(let a):
            if field == "length" { return .int(Int64(a.count)) }
            guard let i = Int(field), i >= 0, i < a.count, String(i) == field else { return nil }
            return a[i]
        default: return nil
        }
    }
}
