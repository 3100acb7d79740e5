import OrderedCollections

/// A JSON object: string keys in JavaScript's property order, with hashed lookup.
///
/// That order is what the original's `JSON.stringify` writes: keys that are array indices
/// (canonical decimal integers up to 2^32 - 2, like `"0"` or `"42"`) first, in ascending
/// numeric order, then all other keys in the order they were first added (the order a client
/// wrote them). Setting an existing key keeps its position.
///
/// Equality ignores key order (JavaScript deep equality); iteration and serialization keep it.
public struct JSONObject: Sendable {
    @usableFromInline var members: OrderedDictionary<String, JSON>
    /// This object's JSON text, when its owner attached it (`attachText`); nil otherwise.
    @usableFromInline var text: [UInt8]?

    /// How many leading keys are array indices (kept sorted numerically). Index keys always
    /// come first, so the boundary is found by binary search rather than stored: a stored
    /// count beside `text` would make every `JSONObject`, and so every `JSON` value, a word
    /// larger.
    var indexKeyCount: Int {
        let keys = members.keys
        var low = 0
        var high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if Self.isArrayIndex(keys[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The members. Every change goes through here and drops the attached text, so the text
    /// can never describe other members than the object has.
    @usableFromInline var storage: OrderedDictionary<String, JSON> {
        @inline(__always) _read { yield members }
        @inline(__always) _modify {
            text = nil
            yield &members
        }
    }

    public init() { members = [:] }

    public init(_ pairs: some Sequence<(String, JSON)>) {
        members = [:]
        for (k, v) in pairs { self[k] = v }  // a repeated key keeps its first position, last value
    }

    public init(minimumCapacity: Int) { members = OrderedDictionary(minimumCapacity: minimumCapacity) }

    /// Builds an object from keys the caller has checked: unique, and none an array index.
    init(uncheckedUniqueKeys keys: ContiguousArray<String>, values: ContiguousArray<JSON>) {
        members = OrderedDictionary(uncheckedUniqueKeys: keys, values: values)
    }

    public var count: Int { storage.count }

    /// Makes room for `minimumCapacity` members, so that adding members up to it does not
    /// reallocate (records grow by their metadata fields right after parsing).
    public mutating func reserveCapacity(_ minimumCapacity: Int) {
        storage.reserveCapacity(minimumCapacity)
    }
    public var isEmpty: Bool { storage.isEmpty }
    public var keys: [String] { Array(storage.keys) }
    public var values: [JSON] { Array(storage.values) }

    /// Reads, sets, or (with `nil`) removes a member. Setting an existing key keeps its position.
    public subscript(key: String) -> JSON? {
        get {
            // Small objects (most requests and records): a linear scan that compares lengths
            // first, since every unequal String comparison is a call into the runtime.
            // OrderedDictionary also scans linearly below this size, comparing whole strings.
            if storage.count <= 8 {
                let n = key.utf8.count
                let keys = storage.keys
                for i in 0..<keys.count where keys[i].utf8.count == n && keys[i] == key {
                    return storage.values[i]
                }
                return nil
            }
            return storage[key]
        }
        set {
            if let newValue {
                insertOrUpdate(newValue, forKey: key)
            } else {
                removeValue(forKey: key)
            }
        }
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSON? {
        guard let index = storage.index(forKey: key) else { return nil }
        return storage.remove(at: index).value
    }

    public func contains(_ key: String) -> Bool { storage[key] != nil }

    /// Sets a member: an existing key keeps its place, a new array-index key goes to its
    /// numeric place among the leading index keys, any other new key goes last.
    @inline(__always)
    mutating func insertOrUpdate(_ value: consuming JSON, forKey key: consuming String) {
        guard Self.isArrayIndex(key) else {
            storage.updateValue(value, forKey: key)
            return
        }
        if let existing = storage.index(forKey: key) {
            storage.values[existing] = value
            return
        }
        // Binary search among the leading index keys; for canonical integers, shorter text
        // is the smaller number and equal lengths compare byte-wise.
        var low = 0
        var high = indexKeyCount
        while low < high {
            let mid = (low + high) / 2
            if Self.indexKey(storage.keys[mid], isLessThan: key) { low = mid + 1 } else { high = mid }
        }
        storage.updateValue(value, forKey: key, insertingAt: low)
    }

    /// True for `"0"` and for decimal integers without leading zeros up to 4294967294.
    @inline(__always)
    static func isArrayIndex(_ key: String) -> Bool {
        let utf8 = key.utf8
        guard let first = utf8.first, first &- UInt8(ascii: "0") < 10 else { return false }
        return isArrayIndexSlow(utf8)
    }

    private static func isArrayIndexSlow(_ utf8: String.UTF8View) -> Bool {
        let count = utf8.count
        if count > 10 { return false }
        if count > 1 && utf8.first == UInt8(ascii: "0") { return false }
        var value: UInt64 = 0
        for b in utf8 {
            let d = b &- UInt8(ascii: "0")
            if d >= 10 { return false }
            value = value * 10 + UInt64(d)
        }
        return value <= 4_294_967_294
    }

    private static func indexKey(_ a: String, isLessThan b: String) -> Bool {
        let (ca, cb) = (a.utf8.count, b.utf8.count)
        if ca != cb { return ca < cb }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }
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
        if lhs.sharesStorage(with: rhs) { return true }
        for (k, v) in lhs.storage {
            guard let other = rhs.storage[k], other == v else { return false }
        }
        return true
    }
}

extension JSONObject {
    /// Whether both are copies of one object that neither has changed since (copy-on-write
    /// keeps their storage shared): then they are equal without comparing members. Results of
    /// one query taken before and after a change share every record the change left alone, so
    /// comparing them (subscriptions, deltas) costs a pointer test per unchanged record.
    @inlinable
    func sharesStorage(with other: JSONObject) -> Bool {
        // Only the addresses are compared, while both objects (and so their buffers) are alive.
        let values = storage.values.withUnsafeBufferPointer { $0.baseAddress }
        guard values != nil, values == other.storage.values.withUnsafeBufferPointer({ $0.baseAddress }) else { return false }
        let keys = storage.keys.withContiguousStorageIfAvailable { $0.baseAddress } ?? nil
        return keys != nil && keys == (other.storage.keys.withContiguousStorageIfAvailable { $0.baseAddress } ?? nil)
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
