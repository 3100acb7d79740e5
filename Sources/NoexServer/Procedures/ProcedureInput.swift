import NoexJSON

/// The call-time check of `input` against a definition's `input` fields (docs/procedures.md#input),
/// with the original's messages: defaults fill missing or `null` fields, required fields must be
/// present, present fields must have their declared type. Undeclared fields are kept.
enum ProcedureInput {
    static func checked(_ input: JSONObject, against schema: JSON?) throws(ServerError) -> JSONObject {
        guard case .object(let fields)? = schema else { return input }
        var issues: [String] = []
        var out = input
        for (key, def) in fields {
            let d = def.objectValue ?? JSONObject()
            let type = d["type"]?.stringValue ?? ""
            guard let value = input[key], value != .null else {
                if let fallback = d["default"] {
                    out[key] = fallback
                } else if d["required"] != .bool(false) {
                    issues.append("Missing required input \"\(key)\"")
                }
                continue
            }
            if !matches(value, type) {
                issues.append("Input \"\(key)\": expected \(type), got \(typeOf(value))")
            }
        }
        guard issues.isEmpty else {
            throw ServerError(.validationError, "Invalid procedure input: \(issues.joined(separator: "; "))",
                              details: ["issues": .array(issues.map(JSON.string))])
        }
        return out
    }

    private static func matches(_ v: JSON, _ type: String) -> Bool {
        switch type {
        case "string": v.stringValue != nil
        case "number": v.isNumber
        case "boolean": v.boolValue != nil
        case "object": v.objectValue != nil
        case "array": v.arrayValue != nil
        default: true
        }
    }

    /// JavaScript `typeof`: arrays are "object".
    private static func typeOf(_ v: JSON) -> String {
        v.arrayValue != nil ? "object" : v.typeName
    }
}
