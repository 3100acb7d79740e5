extension JSON {
    /// The value at a dot-separated path (`"payload.user.name"`, `"items.0.id"`): each
    /// segment names an object member, or an array index in decimal. `nil` when any step is
    /// missing. The empty path is the value itself. Keys that contain dots cannot be reached
    /// this way; use the subscripts.
    public func value(atPath path: String) -> JSON? {
        if path.isEmpty { return self }
        var current = self
        for segment in path.split(separator: ".", omittingEmptySubsequences: false) {
            switch current {
            case .object(let o):
                guard let next = o[String(segment)] else { return nil }
                current = next
            case .array(let a):
                guard let index = Int(segment), index >= 0, index < a.count else { return nil }
                current = a[index]
            default:
                return nil
            }
        }
        return current
    }
}
