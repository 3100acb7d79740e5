import NoexJSON

/// The common `store.get` read as byte ranges of the borrowed message, for the fast path
/// (ProtocolCore+FastGet.swift): no `Request`, no `JSON` members, no `String` for the type.
///
/// Filled by the flat-object scanner (`JSON.scanFlatObject(_:into:)`), so it sees only what
/// the scanner reads exactly as the parser would: one flat object, no duplicate key, strings
/// without escapes or non-ASCII bytes, integers without fraction or exponent. On top of that it
/// accepts only the four members `id` (an integer), `type` (`store.get`), `bucket` and `key`
/// (strings), in any order; any other member or value declines the scan at once, and the
/// message takes the general path, which answers it as before.
struct FastGetRequest: FlatMemberSink {
    private(set) var id: Int64 = 0
    /// The bucket's and the key's bytes, valid while the message is.
    private(set) var bucket = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    private(set) var key = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    /// Members seen, one bit per slot (`RequestMembers.Slot.rawValue`).
    private var seen: UInt8 = 0
    private(set) var declined = false

    private static let all: UInt8 = 1 << RequestMembers.Slot.id.rawValue | 1 << RequestMembers.Slot.type.rawValue
        | 1 << RequestMembers.Slot.bucket.rawValue | 1 << RequestMembers.Slot.key.rawValue

    /// Reads `bytes`; true when they are exactly such a `store.get`.
    mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Bool {
        JSON.scanFlatObject(bytes, into: &self) && seen == Self.all
    }

    /// A non-string member: only an integer `id` fits.
    @inline(__always)
    mutating func member(key: UnsafeBufferPointer<UInt8>, value: consuming JSON) {
        guard case .int(let n) = value, RequestMembers.Slot(key) == .id else {
            declined = true
            return
        }
        id = n
        seen |= 1 << RequestMembers.Slot.id.rawValue
    }

    @inline(__always)
    mutating func member(key name: UnsafeBufferPointer<UInt8>, string contents: UnsafeBufferPointer<UInt8>) {
        switch RequestMembers.Slot(name) {
        case .type? where Self.isStoreGet(contents): seen |= 1 << RequestMembers.Slot.type.rawValue
        case .bucket?:
            bucket = contents
            seen |= 1 << RequestMembers.Slot.bucket.rawValue
        case .key?:
            key = contents
            seen |= 1 << RequestMembers.Slot.key.rawValue
        default: declined = true
        }
    }

    private static func isStoreGet(_ contents: UnsafeBufferPointer<UInt8>) -> Bool {
        let s: StaticString = "store.get"
        guard contents.count == s.utf8CodeUnitCount else { return false }
        for i in 0..<contents.count where contents[i] != s.utf8Start[i] { return false }
        return true
    }
}
