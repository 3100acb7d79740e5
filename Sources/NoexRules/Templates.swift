import NoexJSON

// Rules are parsed once at registration into these forms, so that running a rule does not
// re-split reference paths or re-scan strings for `${…}` on every event.

/// A `{ref}` path split on "." once: `event.customer.tier` → head `event`, rest
/// `[customer, tier]`.
struct RefPath: Sendable {
    let raw: String
    let head: String
    let rest: [String]
    /// `rest` joined with "." again: the fact key a `fact.` reference names (interpolated at
    /// run time).
    let joinedRest: String

    init(_ raw: String) {
        let parts = JSValue.segments(raw)
        self.raw = raw
        head = parts[0]
        rest = Array(parts.dropFirst())
        joinedRest = rest.joined(separator: ".")
    }
}

/// An action value as written: a literal, or a `{ref}` object resolved at run time. A `ref`
/// that is not a string fails when resolved, as `ref.split` throws in the original.
enum ValueTemplate: Sendable {
    case literal(JSON?)
    case ref(RefPath)
    case badRef(JSON)

    init(_ value: JSON?) {
        guard case .object(let o)? = value, let r = o["ref"] else {
            self = .literal(value)
            return
        }
        if let path = r.stringValue { self = .ref(RefPath(path)) } else { self = .badRef(r) }
    }
}

/// An object whose top-level values are `ValueTemplate`s (`emit_event.data`,
/// `onExpire.data`); nested objects stay literal, as in the original.
struct ObjectTemplate: Sendable {
    let entries: [(key: String, value: ValueTemplate)]

    init(_ object: JSONObject) {
        entries = object.map { ($0.key, ValueTemplate($0.value)) }
    }
}

/// A string with `${path}` placeholders (`\$\{([^}]+)\}`: no nesting, `${}` stays literal).
struct StringTemplate: Sendable {
    enum Part: Sendable {
        case text(String)
        case ref(RefPath)
    }

    let source: String
    /// Empty when the string has no placeholder; `source` is then used as is.
    let parts: [Part]

    init(_ source: String) {
        self.source = source
        guard source.utf8.contains(UInt8(ascii: "$")) else {
            parts = []
            return
        }
        var parts: [Part] = []
        var text = ""
        var rest = Substring(source)
        while let start = rest.firstRange(of: "${") {
            let inner = rest[start.upperBound...]
            guard let close = inner.firstIndex(of: "}"), close > inner.startIndex else {
                // No closing brace, or `${}`: literal; continue after the "$".
                let afterDollar = rest.index(after: start.lowerBound)
                text += rest[..<afterDollar]
                rest = rest[afterDollar...]
                continue
            }
            text += rest[..<start.lowerBound]
            if !text.isEmpty {
                parts.append(.text(text))
                text = ""
            }
            parts.append(.ref(RefPath(String(inner[..<close]))))
            rest = inner[inner.index(after: close)...]
        }
        text += rest
        if !text.isEmpty { parts.append(.text(text)) }
        self.parts = parts.contains { if case .ref = $0 { return true } else { return false } } ? parts : []
    }
}

/// A condition's compare value: a literal, or a `{ref}` with the condition's own table.
enum CompareValue: Sendable {
    case literal(JSON?)
    case ref(RefPath, original: JSON)

    init(_ value: JSON?) {
        guard case .object(let o)? = value, let path = o["ref"]?.stringValue else {
            self = .literal(value)
            return
        }
        self = .ref(RefPath(path), original: value!)
    }
}
