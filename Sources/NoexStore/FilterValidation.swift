import NoexJSON

extension Filter {
    /// The operators an operator object (`{"age": {"$gte": 18}}`) may use.
    static let operatorNames = [
        "$eq", "$neq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$contains", "$startsWith",
        "$endsWith", "$exists", "$between",
    ]
    /// Keys allowed at the top level of a filter besides field names.
    static let combinatorNames = ["$or", "$and", "$expr"]
    /// Single-key reference objects a declarative query may put where a value goes.
    static let referenceNames = ["$param", "$ref", "$field"]

    /// A filter compiled after `validate`: an unknown operator is an error, not "match everything".
    static func checked(_ object: JSONObject) throws(StoreError) -> Filter {
        try validate(object)
        return Filter(object)
    }

    /// Throws `VALIDATION_ERROR` naming the first unknown operator (at any depth of `$or` /
    /// `$and`) and listing the valid ones. `allowReferences` admits the `$param`/`$ref`/`$field`
    /// placeholders of declarative queries.
    static func validate(_ object: JSONObject, allowReferences: Bool = false) throws(StoreError) {
        for (field, raw) in object {
            if field == "$or" || field == "$and" {
                guard case .array(let branches) = raw else { continue }  // malformed: ignored, as before
                for case .object(let branch) in branches { try validate(branch, allowReferences: allowReferences) }
                continue
            }
            if field == "$expr" { continue }
            if field.hasPrefix("$") {
                throw unknown(field, where: "at the top level of the filter",
                              valid: combinatorNames + ["a field name"])
            }
            guard case .object(let o) = raw, !o.isEmpty, o.keys.allSatisfy({ $0.hasPrefix("$") }) else { continue }
            if allowReferences, o.count == 1, referenceNames.contains(o.keys.first!) { continue }
            for name in o.keys where !operatorNames.contains(name) {
                throw unknown(name, where: "on field \"\(field)\"", valid: operatorNames)
            }
        }
    }

    private static func unknown(_ name: String, where place: String, valid: [String]) -> StoreError {
        .invalidQuery("Unknown filter operator \"\(name)\" \(place); valid operators: \(valid.joined(separator: ", "))")
    }
}
