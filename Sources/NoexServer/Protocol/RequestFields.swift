import NoexJSON

/// Field validation with the original's exact messages (docs/protocol/envelope.md "Field validation").
/// Each accessor throws the `VALIDATION_ERROR` the original sends for that field.
extension Request {
    public func nonEmptyString(_ field: String) throws(ServerError) -> String {
        try Self.nonEmptyString(self[field], field)
    }

    /// The same for a member with a field of its own (`bucket` on the store path): no lookup.
    func nonEmptyString(_ slot: RequestMembers.Slot) throws(ServerError) -> String {
        try Self.nonEmptyString(members[slot], slot.name)
    }

    private static func nonEmptyString(_ value: JSON?, _ field: @autoclosure () -> String) throws(ServerError) -> String {
        guard case .string(let s)? = value, !s.isEmpty else {
            throw ServerError(.validationError, "Missing or invalid \"\(field())\": expected non-empty string")
        }
        return s
    }

    public func object(_ field: String) throws(ServerError) -> JSONObject {
        guard case .object(let o)? = self[field] else { throw Self.notAnObject(field) }
        return o
    }

    /// `object(_:)` for a member with a field of its own, moved out of the request (which no
    /// longer has it): the caller owns the only reference, so growing it copies nothing.
    /// On error the member stays.
    mutating func takeObject(_ slot: RequestMembers.Slot) throws(ServerError) -> JSONObject {
        guard case .object? = members[slot] else { throw Self.notAnObject(slot.name) }
        guard case .object(let o)? = members.take(slot) else { preconditionFailure("checked above") }
        return o
    }

    private static func notAnObject(_ field: String) -> ServerError {
        ServerError(.validationError, "Missing or invalid \"\(field)\": expected object")
    }

    /// An optional object: absent or `null` mean "not given".
    public func optionalObject(_ field: String) throws(ServerError) -> JSONObject? {
        switch self[field] {
        case nil, .null?: return nil
        case .object(let o)?: return o
        default: throw ServerError(.validationError, "Invalid \"\(field)\": expected object")
        }
    }

    /// A JSON number that is an integer ≥ 1 (`2.0` counts, as in JavaScript).
    public func positiveInteger(_ field: String) throws(ServerError) -> Int {
        guard let d = self[field]?.numberValue, d.isFinite, d >= 1, d == d.rounded() else {
            throw ServerError(.validationError, "Missing or invalid \"\(field)\": expected positive integer")
        }
        return d > Double(Int.max / 2) ? Int.max / 2 : Int(d)
    }

    /// The record key: any JSON value except `null`.
    public func key() throws(ServerError) -> JSON {
        guard let k = members.key, !k.isNull else {
            throw ServerError(.validationError, "Missing \"key\": expected non-null value")
        }
        return k
    }

    /// `expectedVersion` (our extension): absent or `null` mean "no check"; otherwise an integer.
    public func expectedVersion() throws(ServerError) -> Int64? {
        try Self.expectedVersion(self["expectedVersion"], context: "")
    }

    static func expectedVersion(_ value: JSON?, context: String) throws(ServerError) -> Int64? {
        switch value {
        case nil, .null?: return nil
        case let v?:
            guard let n = v.intValue else {
                throw ServerError(.validationError, "\(context)Invalid \"expectedVersion\": expected integer (the record's _version)")
            }
            return n
        }
    }

    /// An optional member where `null` counts as absent.
    public func optional(_ field: String) -> JSON? {
        guard let v = self[field], !v.isNull else { return nil }
        return v
    }
}
