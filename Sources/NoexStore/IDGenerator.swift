/// Makes the random ids of `generated: "uuid"` and `"cuid"` fields from the store's
/// random source (seedable in tests, the system generator in production).
struct IDGenerator {
    var random: any RandomNumberGenerator

    private mutating func bytes16() -> [UInt8] {
        let a = random.next(), b = random.next()
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: a >> (8 * UInt64(i)))
            out[i + 8] = UInt8(truncatingIfNeeded: b >> (8 * UInt64(i)))
        }
        return out
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private static func hexString(_ bytes: [UInt8], dashesAfter: Set<Int> = []) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if dashesAfter.contains(i) { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A random (version 4, RFC 4122 variant) UUID in lowercase, 36 characters.
    mutating func uuid() -> String {
        var b = bytes16()
        b[6] = (b[6] & 0x0F) | 0x40
        b[8] = (b[8] & 0x3F) | 0x80
        return Self.hexString(b, dashesAfter: [4, 6, 8, 10])
    }

    /// `"c"` followed by 32 lowercase hex characters (16 random bytes), as the original.
    mutating func cuid() -> String { "c" + Self.hexString(bytes16()) }
}
