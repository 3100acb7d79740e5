#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NoexJSON

/// `get(bucket:key:)` for a string key, read from bytes: the server's `store.get` fast path
/// hands over the bucket's and the key's bytes as they lie in the request, and gets back the
/// record's stored JSON text. No `String` is made for either name and no `JSON` for the key:
/// the key is hashed from its bytes exactly as `SlotIndex.hash(.string(key))` hashes it, and
/// compared byte for byte (`TextReadTests` checks both against the `String` path).
extension Store {
    /// What a read by bytes found.
    public enum TextRead {
        /// No bucket of that name: `get` would throw `bucketNotDefined`.
        case noBucket
        /// The bucket has no record under the key: `get` answers nil.
        case noRecord
        /// The record's JSON text (attached now if it was not yet, as `get` does).
        case text([UInt8])
    }

    /// `get(bucket:key: .string(key))` where `bucket` and `key` are UTF-8 bytes; `key` must be
    /// ASCII (the hash from bytes is exact for ASCII only, `SlotIndex.asciiStringHash`).
    public func recordText(bucket name: UnsafeBufferPointer<UInt8>, asciiKey key: UnsafeBufferPointer<UInt8>) -> TextRead {
        guard let b = bucket(utf8: name) else { return .noBucket }
        guard let text = b.table.text(stringKey: key, hash: SlotIndex.asciiStringHash(key)) else { return .noRecord }
        return .text(text)
    }

    /// `bucket(_:)` by the name's bytes: the last bucket found is compared without a `String`.
    private func bucket(utf8 name: UnsafeBufferPointer<UInt8>) -> Bucket? {
        if let b = lastBucket, b.name.utf8.withContiguousStorageIfAvailable({ sameBytes($0, name) }) == true {
            return b
        }
        return try? bucket(String(decoding: name, as: UTF8.self))
    }
}

extension SlotIndex {
    /// `hash(.string(s))` for an ASCII `s`, from its bytes: `JSON` hashes a string as `String`
    /// does, and `String` feeds its UTF-8 bytes (ASCII is already in normal form) and a 0xFF
    /// terminator to a fresh `Hasher`. Pinned by `TextReadTests` against `hash(.string(s))`.
    static func asciiStringHash(_ utf8: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(utf8))
        hasher.combine(0xFF as UInt8)
        return hasher.finalize()
    }
}

extension JSON {
    /// True when this is `.string(s)` and `s`'s UTF-8 bytes are `utf8`.
    @inline(__always)
    func isString(spelledBy utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard case .string(let s) = self else { return false }
        return s.utf8.withContiguousStorageIfAvailable { sameBytes($0, utf8) } ?? s.utf8.elementsEqual(utf8)
    }
}

/// Byte equality by `memcmp`: the generic `elementsEqual` took ~30 instructions per byte.
func sameBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0 else { return true }
    return memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
}
