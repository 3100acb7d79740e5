/// Appends client frames to an output buffer: always FIN, always masked (RFC 6455 §5.3),
/// with a fresh masking key per frame supplied by the caller.
public enum MaskedFrameWriter {
    /// Appends one complete frame carrying `payload`, masked with `maskKey`.
    /// `maskKey` is taken in memory order: its four bytes as stored are the key bytes.
    public static func append(
        opcode: Opcode, payload: UnsafeRawBufferPointer, maskKey: UInt32, to out: inout [UInt8]
    ) {
        let count = payload.count
        out.append(0x80 | opcode.rawValue)
        if count < 126 {
            out.append(0x80 | UInt8(count))
        } else if count <= 0xFFFF {
            out.append(0x80 | 126)
            out.append(UInt8(count >> 8)); out.append(UInt8(truncatingIfNeeded: count))
        } else {
            out.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: UInt64(count) >> UInt64(shift)))
            }
        }
        withUnsafeBytes(of: maskKey) { out.append(contentsOf: $0) }
        let start = out.count
        out.append(contentsOf: payload)
        out.withUnsafeMutableBytes { bytes in
            mask(UnsafeMutableRawBufferPointer(rebasing: bytes[start...]), key: maskKey)
        }
    }

    /// XORs `bytes` in place with the repeating 4-byte key, eight bytes per step.
    /// The same call unmasks, since XOR is its own inverse.
    public static func mask(_ bytes: UnsafeMutableRawBufferPointer, key: UInt32) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        let wide = UInt64(key) | UInt64(key) << 32
        var i = 0
        while i + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            base.storeBytes(of: word ^ wide, toByteOffset: i, as: UInt64.self)
            i += 8
        }
        // The tail starts at a multiple of 8, so byte i takes key byte i % 4.
        var tailKey = key
        withUnsafeBytes(of: &tailKey) { keyBytes in
            while i < count {
                base.storeBytes(of: base.load(fromByteOffset: i, as: UInt8.self) ^ keyBytes[i & 3], toByteOffset: i, as: UInt8.self)
                i += 1
            }
        }
    }
}
