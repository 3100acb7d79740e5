extension JSONObject {
    /// This object with `keys[i]`: `values[i]` set in order, exactly as setting each through
    /// the subscript would leave it, but built with one allocation per member array.
    ///
    /// Setting members one by one grows a copied storage and searches it for each key (a
    /// runtime string comparison per member for every key); a store insert adds its metadata
    /// members to every record this way (bench/README.md, issue 13, third round). Here a new
    /// key is told apart from the members by its first byte, and only keys whose first byte
    /// equals a member's are compared whole. Keys already present, repeated, or array indices
    /// (which have a place of their own) are set through the subscript after the others, which
    /// gives the same order: they never move the appended keys relative to each other.
    public func appending(keys: [String], values: [JSON]) -> JSONObject {
        precondition(keys.count == values.count, "appending(keys:values:): one value per key")
        if keys.isEmpty { return self }
        if keys.count > 64 {
            var copy = self
            for i in keys.indices { copy.insertOrUpdate(values[i], forKey: keys[i]) }
            return copy
        }
        let own = members.keys.elements
        // Bit i: keys[i] is set through the subscript afterwards.
        var later: UInt64 = 0
        for i in keys.indices {
            let key = keys[i]
            if Self.isArrayIndex(key) {
                later |= 1 << UInt64(i)
                continue
            }
            let first = key.utf8.first
            var clash = false
            for k in own where k.utf8.first == first && k == key {
                clash = true
                break
            }
            if !clash {
                for j in 0..<i where keys[j].utf8.first == first && keys[j] == key {
                    clash = true
                    break
                }
            }
            if clash { later |= 1 << UInt64(i) }
        }
        var newKeys = ContiguousArray<String>()
        var newValues = ContiguousArray<JSON>()
        newKeys.reserveCapacity(own.count + keys.count)
        newValues.reserveCapacity(own.count + keys.count)
        newKeys.append(contentsOf: own)
        newValues.append(contentsOf: members.values.elements)
        for i in keys.indices where later & (1 << UInt64(i)) == 0 {
            newKeys.append(keys[i])
            newValues.append(values[i])
        }
        var result = JSONObject(uncheckedUniqueKeys: newKeys, values: newValues)
        if later != 0 {
            for i in keys.indices where later & (1 << UInt64(i)) != 0 { result.insertOrUpdate(values[i], forKey: keys[i]) }
        }
        return result
    }
}
