import OrderedCollections

/// A JSON object: string keys in insertion order (the order a client wrote them, which is the
/// order the original's `JSON.stringify` writes them back), with hashed lookup.
///
/// Equality ignores key order (JavaScript deep equality); iteration and serialization keep it.
public struct JSONObject: Sendable {
    @usableFromInline var storage: OrderedDictionary<String, JSON>

    public init() { storage = [:] }

    public init(_ pairs: some Sequence<(String, JSON)>) {
        storage = [:]
        for (k, v) in pairs { storage[k] = v }  // a repeated key keeps its first position, last value
    }

    public init(minimumCapacity: Int) { storage = OrderedDictionary(minimumCapacity: minimumCapacity) }

    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }
    public var keys: [String] { Array(storage.keys) }
    public var values: [JSON] { Array(storage.values) }

    /// Reads, sets, or (with `nil`) removes a member. Setting an existing key keeps its position.
    @inlinable
    public subscript(key: String) -> JSON? {
        get { storage[key] }
        set { storage[key] = newValue }
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSON? { storage.removeValue(forKey: key) }

    public func contains(_ key: String) -> Bool { storage[key] != nil }
}

extension JSONObject: Sequence {
    public typealias Element = (key: String, value: JSON)

    public struct Iterator: IteratorProtocol {
        var base: OrderedDictionary<String, JSON>.Iterator
        public mutating func next() -> (key: String, value: JSON)? { base.next() }
    }

    public func makeIterator() -> Iterator { Iterator(base: storage.makeIterator()) }
}

extension JSONObject: Equatable {
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (k, v) in lhs.storage {
            guard let other = rhs.storage[k], other == v else { return false }
        }
        return true
    }
}

extension JSONObject: Hashable {
    /// Order-independent: combines per-member hashes commutatively.
    public func hash(into hasher: inout Hasher) {
        var acc = 0
        for (k, v) in storage {
            var h = Hasher()
            h.combine(k)
            h.combine(v)
            acc ^= h.finalize()
        }
        hasher.combine(count)
        hasher.combine(acc)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSON)...) { self.init(elements) }
}
