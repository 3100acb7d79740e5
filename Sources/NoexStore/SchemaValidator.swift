import NoexJSON
import NoexRegex

/// Checks records against a bucket schema (docs/protocol/queries.md#bucket-definitions) and holds the compiled patterns.
///
/// Patterns run on `BoundedRegex` (PCRE2 with JavaScript-like options and a step limit), so
/// a pathological pattern fails the one record with a clear issue instead of stalling the loop.
final class SchemaValidator {
    let definition: BucketDefinition
    private var patterns: [String: BoundedRegex] = [:]

    init(definition: BucketDefinition) {
        self.definition = definition
        for (name, def) in definition.fields {
            if let p = def.pattern, let r = try? BoundedRegex(p) { patterns[name] = r }
        }
    }

    /// All issues of `record`, in schema declaration order; empty when valid.
    func validate(_ record: JSONObject) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        for (field, def) in definition.fields {
            let value = record[field]
            if value == nil || value!.isNull {
                if def.required { issues.append(.init(field: field, message: "Field is required", code: "required")) }
                continue
            }
            let v = value!
            if let type = def.type, !Self.typeMatches(v, type) {
                issues.append(.init(field: field, message: "Expected type \"\(type)\", got \(v.typeName)", code: "type"))
                continue
            }
            if let options = def.enumValues, !options.contains(where: { JSValue.sameValueZero($0, v) }) {
                let list = options.map { $0.isNull ? "" : JSValue.string($0) }.joined(separator: ", ")
                issues.append(.init(field: field, message: "Value must be one of: \(list)", code: "enum"))
            }
            if case .string(let s) = v {
                let len = Double(s.utf16.count)
                if let m = def.minLength, len < m {
                    issues.append(.init(field: field, message: "Minimum length is \(JSValue.number(m))", code: "minLength"))
                }
                if let m = def.maxLength, len > m {
                    issues.append(.init(field: field, message: "Maximum length is \(JSValue.number(m))", code: "maxLength"))
                }
                if let p = def.pattern, let r = patterns[field] {
                    switch r.test(s) {
                    case .match: break
                    case .noMatch:
                        issues.append(.init(field: field, message: "Value must match pattern \"\(p)\"", code: "pattern"))
                    case .tooComplex:
                        issues.append(.init(field: field, message: Self.tooComplex(p), code: "pattern"))
                    }
                }
                if let f = def.format, !FormatValidators.isValid(s, format: f) {
                    issues.append(.init(field: field, message: "Invalid \(f) format", code: "format"))
                }
            }
            if let n = v.numberValue {
                if let m = def.min, n < m {
                    issues.append(.init(field: field, message: "Minimum value is \(JSValue.number(m))", code: "min"))
                }
                if let m = def.max, n > m {
                    issues.append(.init(field: field, message: "Maximum value is \(JSValue.number(m))", code: "max"))
                }
            }
        }
        return issues
    }

    static func tooComplex(_ pattern: String) -> String {
        "Pattern \"\(pattern)\" needs too much backtracking to check this value (regex step limit reached); "
            + "rewrite the pattern without nested or overlapping repetition"
    }

    static func typeMatches(_ v: JSON, _ type: String) -> Bool {
        switch type {
        case "string": if case .string = v { return true } else { return false }
        case "number": return v.isNumber
        case "boolean": if case .bool = v { return true } else { return false }
        case "object": if case .object = v { return true } else { return false }
        case "array": if case .array = v { return true } else { return false }
        case "date":
            switch v {
            case .int, .double, .string: return true
            default: return false
            }
        default: return true  // unknown types are accepted unchecked, as in the original
        }
    }
}
