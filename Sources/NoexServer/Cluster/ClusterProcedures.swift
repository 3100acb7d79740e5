import NoexJSON

/// The `procedures.*` writes as log entries (docs/cluster.md#procedures). The entry carries the
/// request's own fields (all checks run where the entry is applied, in the single server's
/// order, so the answer is its answer) and, for a call, the caller's session: every node checks
/// the call's steps as that session's standalone requests, at the entry's time.
enum ClusterProcedures {
    static let writes: Set<String> = ["procedures.register", "procedures.update", "procedures.unregister", "procedures.call"]
    static let sessionField = "session"

    /// The fields each operation reads.
    private static let fields: [String: [String]] = [
        "procedures.register": ["procedure"], "procedures.update": ["name", "updates"],
        "procedures.unregister": ["name"], "procedures.call": ["name", "input"],
    ]

    /// The entry's `args` for a procedures write; nil for every other request.
    static func args(of r: Request, session: AuthSession?) -> JSONObject? {
        guard let names = fields[r.type] else { return nil }
        var args = JSONObject()
        for k in names { if let v = r[k] { args[k] = v } }
        if r.type == "procedures.call", let session {
            var s: JSONObject = ["userId": .string(session.userId), "roles": .array(session.roles.map(JSON.string))]
            if let e = session.expiresAt { s["expiresAt"] = .int(e) }
            args[sessionField] = .object(s)
        }
        return args
    }

    static func session(from json: JSON) -> AuthSession? {
        guard let user = json["userId"]?.stringValue else { return nil }
        return AuthSession(userId: user, roles: json["roles"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                           expiresAt: json["expiresAt"]?.intValue)
    }
}
