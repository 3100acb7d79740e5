import NoexJSON
import NoexRegex

/// Checks records against a bucket schema (docs/protocol/queries.md#bucket-definitions) and holds the compiled patterns.
///
/// Patterns run on `BoundedRegex` (PCRE2 with JavaScript-like options and a step limit), so
/// a pathological pattern fails the one record with a clear issue instead of stalling the loop.
final class SchemaValidator {
    let definition: BucketDefinition
    // Constants after init: a `let` is read without an exclusivity check on every write.
    private let patterns: [String: BoundedRegex]
    /// Per field, in schema order: what a valid value of the common kind needs (a type and
    /// nothing else) without copying its `FieldDefinition`.
    private let quick: [QuickCheck]

    /// A field whose only constraints are `required` and `type` is checked from this alone.
    private struct QuickCheck {
        var name: String
        var required: Bool
        /// nil: the type is absent or unknown (accepted unchecked).
        var type: JSONKind?
        /// Any other constraint: the full check of `definition.fields[i]` runs.
        var more: Bool
    }

    private enum JSONKind { case string, number, boolean, object, array, date }

    init(definition: BucketDefinition) {
        self.definition = definition
        var patterns: [String: BoundedRegex] = [:]
        var quick: [QuickCheck] = []
        for (name, def) in definition.fields {
            if let p = def.pattern, let r = try? BoundedRegex(p) { patterns[name] = r }
            let more = def.enumValues != nil || def.format != nil || def.min != nil || def.max != nil
                || def.minLength != nil || def.maxLength != nil || def.pattern != nil
            quick.append(QuickCheck(name: name, required: def.required, type: def.type.flatMap(Self.kind), more: more))
        }
        self.patterns = patterns
        self.quick = quick
    }

    private static func kind(_ type: String) -> JSONKind? {
        switch type {
        case "string": return .string
        case "number": return .number
        case "boolean": return .boolean
        case "object": return .object
        case "array": return .array
        case "date": return .date
        default: return nil
        }
    }

    private static func matches(_ v: JSON, _ kind: JSONKind) -> Bool {
        switch (kind, v) {
        case (.string, .string), (.number, .int), (.number, .double), (.boolean, .bool),
             (.object, .object), (.array, .array), (.date, .int), (.date, .double), (.date, .string):
            return true
        default:
            return false
        }
    }

    /// All issues of `record`, in schema declaration order; empty when valid.
    func validate(_ record: JSONObject) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        for i in quick.indices {
            let value = record[quick[i].name]
            if value == nil || value!.isNull {
                if quick[i].required { issues.append(.init(field: quick[i].name, message: "Field is required", code: "required")) }
                continue
            }
            let v = value!
            if !quick[i].more, quick[i].type.map({ Self.matches(v, $0) }) ?? true { continue }
            let (field, def) = definition.fields[i]
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
