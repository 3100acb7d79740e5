extension JSON {
    /// The value at a dot-separated path (`"payload.user.name"`, `"items.0.id"`): each
    /// segment names an object member, or an array index in canonical decimal (as JavaScript
    /// property keys work: `"1"`, not `"01"`). `nil` when any step is missing. The empty path
    /// is the value itself. Keys that contain dots cannot be reached this way; use the
    /// subscripts.
    public func value(atPath path: String) -> JSON? {
        if path.isEmpty { return self }
        return JSValue.get(self, path: path)
    }
}
