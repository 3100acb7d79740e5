import NoexJSON

/// `{{ path }}` references in step values (docs/procedures.md#templates). `nil` stands for the
/// original's `undefined` (a reference to nothing).
struct ProcedureTemplates {
    /// The call's input (after defaults) and the results stored so far under `as` names.
    let input: JSONObject
    let results: JSONObject
    /// Every value a reference copies in, and every byte of text templates, is charged here.
    let budget: ProcedureBudget

    /// `input.a.b` reads the call input, `name.a.b` a stored result; objects by key, arrays by
    /// index or `length`; anything else along the way is nothing.
    func ref(_ path: String) -> JSON? {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false)
        var current: JSON? = parts.first == "input" ? .object(input) : results[String(parts[0])]
        for part in parts.dropFirst() {
            switch current {
            case .object(let o)?:
                current = o[String(part)]
            case .array(let a)?:
                if part == "length" {
                    current = .int(Int64(a.count))
                } else if let i = Int(part), i >= 0, i < a.count, String(i) == part {
                    current = a[i]
                } else {
                    current = nil
                }
            default:
                return nil
            }
        }
        return current
    }

    /// Resolves every template in `value`: a string that is exactly one reference becomes the
    /// referenced value itself; text around references interpolates them; objects and arrays
    /// resolve member by member (a member resolving to nothing is left out of an object and
    /// becomes `null` in an array, as JSON text of the original would have it).
    func resolve(_ value: JSON) throws(ServerError) -> JSON? {
        switch value {
        case .string(let s): return try resolve(string: s)
        case .array(let items):
            var out: [JSON] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try resolve(item) ?? .null) }
            return .array(out)
        case .object(let o):
            var out = JSONObject(minimumCapacity: o.count)
            for (k, v) in o {
                if let r = try resolve(v) { out[k] = r }
            }
            return .object(out)
        default:
            return value
        }
    }

    func resolve(string s: String) throws(ServerError) -> JSON? {
        let matches = Self.references(in: s)
        if matches.isEmpty { return .string(s) }
        let utf8 = s.utf8
        if matches.count == 1, matches[0].range == utf8.startIndex..<utf8.endIndex {
            let value = ref(matches[0].path)
            if let value { try budget.charge(copiesOf: value) }
            return value
        }
        var out = ""
        var at = utf8.startIndex
        func append(_ text: String) throws(ServerError) {
            try budget.chargeTemplateBytes(text.utf8.count)
            out += text
        }
        for m in matches {
            try append(String(Substring(utf8[at..<m.range.lowerBound])))
            switch ref(m.path) {
            case nil, .null?: break
            case .string(let text)?: try append(text)
            case let v? where v.objectValue != nil || v.arrayValue != nil:
                try budget.charge(copiesOf: v)  // bounds the serialisation before it is made
                try append(v.jsonString)
            case let v?: try append(JSValue.string(v))
            }
            at = m.range.upperBound
        }
        try append(String(Substring(utf8[at...])))
        return .string(out)
    }

    /// The `{{ … }}` references of `s`, left to right: `{{`, then text up to the first `}`,
    /// which must be non-blank... as the original's pattern `\{\{\s*([^}]+?)\s*\}\}` reads it:
    /// at least one character that is not `}`, closed by `}}`; the path is that text trimmed.
    static func references(in s: String) -> [(range: Range<String.UTF8View.Index>, path: String)] {
        let u = s.utf8
        var out: [(Range<String.UTF8View.Index>, String)] = []
        let open = UInt8(ascii: "{"), close = UInt8(ascii: "}")
        var i = u.startIndex
        while i != u.endIndex {
            guard u[i] == open, let second = u.index(i, offsetBy: 1, limitedBy: u.endIndex), second != u.endIndex,
                  u[second] == open else {
                i = u.index(after: i)
                continue
            }
            let contentStart = u.index(after: second)
            guard let firstClose = u[contentStart...].firstIndex(of: close), firstClose != contentStart else {
                i = u.index(after: i)
                continue
            }
            let after = u.index(after: firstClose)
            guard after != u.endIndex, u[after] == close else {
                i = u.index(after: i)
                continue
            }
            let end = u.index(after: after)
            let path = String(Substring(u[contentStart..<firstClose])).trimmingJSWhitespace()
            out.append((i..<end, path))
            i = end
        }
        return out
    }
}
