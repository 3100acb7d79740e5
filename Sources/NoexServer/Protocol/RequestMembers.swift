import NoexJSON

/// A request's top-level members without a `JSONObject` tree.
///
/// The members nearly every request carries (`id`, `type`, `bucket`, `key`, `data`, `filter`)
/// sit in fields of their own; any other member goes to `extras`, in order. A `store.get`
/// therefore costs no allocation for its members, and reading `bucket` is a field access
/// instead of a key lookup (issue 13: building and freeing the tree was ~15% of a `store.get`).
///
/// The members are exactly the parser's: the same keys (an escaped key such as
/// `"buck\u0065t"` is filled in as `bucket`, as the parser decodes it), the same values (a
/// `bucket` that is not a string stays what it is), one value per key (the scanner leaves
/// duplicate keys to the parser, whose object keeps the first position and the last value),
/// and the same order: each slot remembers its position, so `object` rebuilds the parser's
/// object member for member (`RequestMembersTests`, `EnvelopeScanTests`, fuzz-request).
struct RequestMembers: Sendable, FlatMemberSink {
    /// The members with a field of their own.
    enum Slot: Int, CaseIterable, Sendable {
        case id, type, bucket, key, data, filter

        var name: String {
            switch self {
            case .id: "id"
            case .type: "type"
            case .bucket: "bucket"
            case .key: "key"
            case .data: "data"
            case .filter: "filter"
            }
        }

        /// The slot of the key whose UTF-8 bytes these are, if it has one.
        @inline(__always)
        init?(_ key: UnsafeBufferPointer<UInt8>) {
            @inline(__always) func spells(_ s: StaticString) -> Bool {
                let q = s.utf8Start
                for i in 0..<key.count where key[i] != q[i] { return false }
                return true
            }
            switch key.count {
            case 2 where spells("id"): self = .id
            case 3 where spells("key"): self = .key
            case 4 where spells("type"): self = .type
            case 4 where spells("data"): self = .data
            case 6 where spells("bucket"): self = .bucket
            case 6 where spells("filter"): self = .filter
            default: return nil
            }
        }

        init?(_ key: String) {
            var key = key
            guard let slot = key.withUTF8({ Slot($0) }) else { return nil }
            self = slot
        }
    }

    private(set) var id: JSON?
    private(set) var type: JSON?
    private(set) var bucket: JSON?
    private(set) var key: JSON?
    private(set) var data: JSON?
    private(set) var filter: JSON?
    /// Where each slot's member stands among all members (by `Slot.rawValue`); -1 when absent.
    private var positions: (Int32, Int32, Int32, Int32, Int32, Int32) = (-1, -1, -1, -1, -1, -1)
    /// The members without a slot, in order. Empty (no allocation) for the common requests.
    private(set) var extras: ContiguousArray<(key: String, value: JSON)> = []
    /// All members, slots and extras.
    private(set) var count = 0

    init() {}

    /// The members of a parsed object (the parser's path, and requests built in the server).
    init(_ object: JSONObject) {
        for (k, v) in object { append(Slot(k), name: k, v) }
    }

    /// Reads the members of a flat request straight from its bytes into these (empty) members;
    /// false when the parser must decide (`JSON.scanFlatObject(_:member:)`), and then these
    /// members are to be dropped. In place, because this struct is large and copying it (every
    /// slot retained, then released) was a measurable share of a request.
    mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Bool {
        JSON.scanFlatObject(bytes, into: &self)
    }

    /// Adds a member whose key is not one of the members already added. `name` is read only
    /// when `slot` is nil.
    @inline(__always)
    private mutating func append(_ slot: Slot?, name: String, _ value: consuming JSON) {
        guard let slot else {
            extras.append((name, value))
            count += 1
            return
        }
        let at = Int32(truncatingIfNeeded: count)
        switch slot {
        case .id: (id, positions.0) = (value, at)
        case .type: (type, positions.1) = (value, at)
        case .bucket: (bucket, positions.2) = (value, at)
        case .key: (key, positions.3) = (value, at)
        case .data: (data, positions.4) = (value, at)
        case .filter: (filter, positions.5) = (value, at)
        }
        count += 1
    }

    /// One scanned member (`FlatMemberSink`): the scanner, specialised for this type, calls
    /// it directly and moves the value in.
    @inline(__always)
    mutating func member(key: UnsafeBufferPointer<UInt8>, value: consuming JSON) {
        let slot = Slot(key)
        append(slot, name: slot == nil ? JSON.objectKey(key) : "", value)
    }

    subscript(slot: Slot) -> JSON? {
        switch slot {
        case .id: id
        case .type: type
        case .bucket: bucket
        case .key: key
        case .data: data
        case .filter: filter
        }
    }

    /// Removes a slot's member and returns it (its position stays recorded, unread: `object`
    /// is not asked for afterwards on the store path that takes a member).
    mutating func take(_ slot: Slot) -> JSON? {
        switch slot {
        case .id: id.take()
        case .type: type.take()
        case .bucket: bucket.take()
        case .key: key.take()
        case .data: data.take()
        case .filter: filter.take()
        }
    }

    private func position(_ slot: Slot) -> Int {
        switch slot {
        case .id: Int(positions.0)
        case .type: Int(positions.1)
        case .bucket: Int(positions.2)
        case .key: Int(positions.3)
        case .data: Int(positions.4)
        case .filter: Int(positions.5)
        }
    }

    /// The member named `name`, as the parser's object would answer it.
    subscript(name: String) -> JSON? {
        if let slot = Slot(name) { return self[slot] }
        let n = name.utf8.count
        for i in extras.indices where extras[i].key.utf8.count == n && extras[i].key == name {
            return extras[i].value
        }
        return nil
    }

    /// The members as the object the parser builds: same keys, values and order. For the
    /// readers that need the whole object (the cluster log, a few handlers); the request path
    /// itself never builds it.
    var object: JSONObject {
        var slotAt = [Slot?](repeating: nil, count: count)
        for slot in Slot.allCases where position(slot) >= 0 { slotAt[position(slot)] = slot }
        var object = JSONObject(minimumCapacity: count)
        var extra = extras.makeIterator()
        for slot in slotAt {
            if let slot {
                object[slot.name] = self[slot]
            } else if let (k, v) = extra.next() {
                object[k] = v
            }
        }
        return object
    }
}
