import NoexJSON

/// Registration-time validation of a procedure definition (docs/procedures.md#validation): every
/// issue is collected, with the original's exact strings, and reported together.
enum ProcedureValidator {
    static let actions = [
        "store.get", "store.where", "store.findOne", "store.insert", "store.update", "store.delete", "store.count",
        "aggregate", "rules.emit", "rules.setFact", "rules.getFact", "if", "transform", "return",
    ]
    static let inputTypes = ["string", "number", "boolean", "object", "array"]
    static let aggregateOps = ["sum", "avg", "min", "max", "count"]
    static let transformOps = ["map", "filter", "pick", "pluck"]
    static let conditionOperators = ["eq", "neq", "gt", "gte", "lt", "lte", "exists", "not_exists"]

    /// The issues of `definition`; empty when it may be registered.
    static func issues(_ definition: JSONObject, limits: ProceduresConfig) -> [String] {
        var issues: [String] = []
        if !isNonEmptyString(definition["name"]) {
            issues.append("Missing or invalid \"name\": expected non-empty string")
        }
        if let d = definition["description"], d.stringValue == nil {
            issues.append("\"description\" must be a string")
        }
        if let input = definition["input"] { validateInput(input, &issues) }
        if let t = definition["transaction"], t.boolValue == nil {
            issues.append("\"transaction\" must be a boolean")
        }
        if let t = definition["timeoutMs"], !((t.numberValue ?? 0) > 0) {
            issues.append("\"timeoutMs\" must be a positive number")
        }
        switch definition["steps"] {
        case .array(let steps)?:
            if steps.isEmpty {
                issues.append("\"steps\" must contain at least one step")
                break
            }
            let total = countSteps(steps)
            if total > limits.maxSteps {
                issues.append("Total step count (\(total)) exceeds maximum (\(limits.maxSteps))")
            }
            validateSteps(steps, &issues, prefix: "steps", depth: 0, maxDepth: limits.maxConditionDepth)
        default:
            issues.append("Missing or invalid \"steps\": expected array")
        }
        return issues
    }

    /// Every step, nested `then` / `else` steps included (what `maxSteps` bounds).
    static func countSteps(_ steps: [JSON]) -> Int {
        var n = 0
        for step in steps {
            n += 1
            guard case .object(let s) = step, s["action"] == "if" else { continue }
            if case .array(let t)? = s["then"] { n += countSteps(t) }
            if case .array(let e)? = s["else"] { n += countSteps(e) }
        }
        return n
    }

    private static func isNonEmptyString(_ v: JSON?) -> Bool {
        if case .string(let s)? = v { return !s.isEmpty }
        return false
    }

    private static func validateInput(_ input: JSON, _ issues: inout [String]) {
        guard case .object(let fields) = input else {
            issues.append("\"input\" must be an object")
            return
        }
        for (key, def) in fields {
            guard case .object(let d) = def else {
                issues.append("input.\(key): expected field definition object")
                continue
            }
            if !inputTypes.contains(d["type"]?.stringValue ?? "") {
                issues.append("input.\(key).type: expected one of: \(inputTypes.joined(separator: ", "))")
            }
        }
    }

    private static func validateSteps(_ steps: [JSON], _ issues: inout [String], prefix: String, depth: Int, maxDepth: Int) {
        for (i, step) in steps.enumerated() {
            let path = "\(prefix)[\(i)]"
            guard case .object(let s) = step else {
                issues.append("\(path): expected step object")
                continue
            }
            guard let action = s["action"]?.stringValue, actions.contains(action) else {
                issues.append("\(path).action: expected one of: \(actions.joined(separator: ", "))")
                continue
            }
            validateStep(s, action, path, &issues, depth: depth, maxDepth: maxDepth)
        }
    }

    private static func validateStep(_ s: JSONObject, _ action: String, _ path: String, _ issues: inout [String],
                                     depth: Int, maxDepth: Int) {
        func string(_ f: String) {
            if !isNonEmptyString(s[f]) { issues.append("\(path).\(f): expected non-empty string") }
        }
        func object(_ f: String) {
            if s[f]?.objectValue == nil { issues.append("\(path).\(f): expected object") }
        }
        func required(_ f: String) {
            if s[f] == nil { issues.append("\(path).\(f): required") }
        }
        func oneOf(_ f: String, _ allowed: [String]) {
            if !allowed.contains(s[f]?.stringValue ?? "\u{0}") {
                issues.append("\(path).\(f): expected one of: \(allowed.joined(separator: ", "))")
            }
        }
        switch action {
        case "store.get": string("bucket"); string("key"); string("as")
        case "store.where", "store.findOne": string("bucket"); object("filter"); string("as")
        case "store.insert":
            string("bucket"); object("data")
            if s["as"] != nil { string("as") }
        case "store.update":
            string("bucket"); string("key"); object("data")
            if s["as"] != nil { string("as") }
        case "store.delete": string("bucket"); string("key")
        case "store.count":
            string("bucket")
            if s["filter"] != nil { object("filter") }
            string("as")
        case "aggregate":
            string("source"); string("as"); oneOf("op", aggregateOps)
            if s["op"] != "count" { string("field") }
        case "rules.emit":
            string("topic")
            if s["data"] != nil { object("data") }
        case "rules.setFact": string("key"); required("value")
        case "rules.getFact": string("key"); string("as")
        case "if": validateCondition(s, path, &issues, depth: depth, maxDepth: maxDepth)
        case "transform":
            string("source"); string("as"); oneOf("operation", transformOps); required("args")
        default: required("value")  // return
        }
    }

    private static func validateCondition(_ s: JSONObject, _ path: String, _ issues: inout [String], depth: Int, maxDepth: Int) {
        if depth >= maxDepth {
            issues.append("\(path): condition nesting depth exceeds maximum (\(maxDepth))")
            return
        }
        if case .object(let c)? = s["condition"] {
            if !isNonEmptyString(c["ref"]) { issues.append("\(path).condition.ref: expected non-empty string") }
            if !conditionOperators.contains(c["operator"]?.stringValue ?? "\u{0}") {
                issues.append("\(path).condition.operator: expected one of: \(conditionOperators.joined(separator: ", "))")
            }
        } else {
            issues.append("\(path).condition: expected object")
        }
        if case .array(let t)? = s["then"], !t.isEmpty {
            validateSteps(t, &issues, prefix: "\(path).then", depth: depth + 1, maxDepth: maxDepth)
        } else {
            issues.append("\(path).then: expected non-empty array of steps")
        }
        guard let e = s["else"] else { return }
        if case .array(let steps) = e, !steps.isEmpty {
            validateSteps(steps, &issues, prefix: "\(path).else", depth: depth + 1, maxDepth: maxDepth)
        } else {
            issues.append("\(path).else: expected non-empty array of steps")
        }
    }
}
