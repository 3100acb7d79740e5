import NoexJSON

/// What an audit entry says about the request itself: its `resource` and `details`
/// (docs/audit.md), taken from the request's fields as the original does, and cut to a bounded
/// size because every one of those fields is chosen by the client.
enum AuditFacts {
    /// Longest `resource` kept, in UTF-8 bytes (longer ones are cut and end in "…").
    static let maxResourceBytes = 256
    /// Longest `error` message kept.
    static let maxErrorBytes = 512
    /// Budget of all strings, keys and scalars in `details` together.
    static let maxDetailsBytes = 1024

    /// The first string among `bucket`, `name`, `ruleId`, `topic`, `key`, `pattern`; else
    /// `user:<username>`, `user:<userId>`, `role:<roleId>`, `<resourceType>:<resourceName>`;
    /// else `*`.
    static func resource(of r: Request) -> String {
        for field in ["bucket", "name", "ruleId", "topic", "key", "pattern"] {
            if case .string(let s)? = r[field] { return clip(s, maxResourceBytes) }
        }
        if case .string(let s)? = r["username"] { return clip("user:" + s, maxResourceBytes) }
        if case .string(let s)? = r["userId"] { return clip("user:" + s, maxResourceBytes) }
        if case .string(let s)? = r["roleId"] { return clip("role:" + s, maxResourceBytes) }
        if case .string(let t)? = r["resourceType"], case .string(let n)? = r["resourceName"] {
            return clip(t + ":" + n, maxResourceBytes)
        }
        return "*"
    }

    /// The request fields the original copies for identity operations (never a password);
    /// absent fields are left out, as JSON drops JavaScript's `undefined`.
    static func details(of r: Request) -> JSONObject? {
        let names: [String]
        switch r.type {
        case "identity.login", "identity.createUser": names = ["username"]
        case "identity.assignRole", "identity.removeRole": names = ["userId", "roleName"]
        case "identity.grant", "identity.revoke":
            names = ["subjectType", "subjectId", "resourceType", "resourceName", "operations"]
        case "identity.transferOwner": names = ["resourceType", "resourceName", "newOwnerId"]
        default: return nil
        }
        var budget = maxDetailsBytes
        var out = JSONObject()
        for name in names {
            if let v = r[name] { out[name] = clip(v, budget: &budget) }
        }
        return out
    }

    /// `s` cut to at most `max` UTF-8 bytes at a character boundary, marked with "…".
    static func clip(_ s: String, _ max: Int) -> String {
        guard s.utf8.count > max else { return s }
        var out = ""
        var used = 0
        for c in s {
            let n = c.utf8.count
            if used + n > max { break }
            out.append(c)
            used += n
        }
        return out + "…"
    }

    /// `v` with its strings, keys and elements charged to `budget`: once the budget is spent,
    /// strings are cut and the rest of an array or object is left out.
    static func clip(_ v: JSON, budget: inout Int) -> JSON {
        switch v {
        case .string(let s):
            let cut = clip(s, Swift.max(0, budget))
            budget -= cut.utf8.count + 2
            return .string(cut)
        case .array(let items):
            var out: [JSON] = []
            for item in items {
                guard budget > 0 else { break }
                out.append(clip(item, budget: &budget))
            }
            return .array(out)
        case .object(let o):
            var out = JSONObject()
            for (key, value) in o {
                guard budget > key.utf8.count else { break }
                budget -= key.utf8.count + 3
                out[key] = clip(value, budget: &budget)
            }
            return .object(out)
        default:
            budget -= 8
            return v
        }
    }
}
