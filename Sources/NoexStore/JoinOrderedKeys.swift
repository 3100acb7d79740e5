import NoexJSON

/// The keys holding one value of a non-unique index, in the order they joined it (a JavaScript
/// `Set`, as the original keeps them): adding and removing a key cost the same however many
/// keys share the value.
///
/// A removed key leaves a hole in `keys`; once holes are most of it, the keys are copied
/// together (amortized O(1) per removal). The join order is nearly always table order, so an
/// indexed `where` rarely has to sort its hits (`Bucket.select`); a `Set` here made a `where`
/// with 50,000 hits ~45% slower.
struct JoinOrderedKeys {
    private var keys: [JSON?] = []
    /// Each key's position in `keys`.
    private var positions: [JSON: Int] = [:]

    var count: Int { positions.count }
    var isEmpty: Bool { positions.isEmpty }

    mutating func insert(_ key: JSON) {
        guard positions[key] == nil else { return }
        positions[key] = keys.count
        keys.append(key)
    }

    mutating func remove(_ key: JSON) {
        guard let i = positions.removeValue(forKey: key) else { return }
        keys[i] = nil
        if keys.count >= 32 && positions.count * 2 < keys.count { closeHoles() }
    }

    /// The keys, in join order.
    var all: [JSON] {
        var out: [JSON] = []
        out.reserveCapacity(positions.count)
        for case let k? in keys { out.append(k) }
        return out
    }

    private mutating func closeHoles() {
        var fresh: [JSON?] = []
        fresh.reserveCapacity(positions.count)
        for case let k? in keys {
            positions[k] = fresh.count
            fresh.append(k)
        }
        keys = fresh
    }
}
