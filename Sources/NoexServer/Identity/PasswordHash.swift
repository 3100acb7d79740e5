import COpenSSL
import NoexLoop

/// Password hashes in the original's exact format, so hashes move between the two servers:
/// `$scrypt$16384$8$1$<salt base64>$<hash base64>` — scrypt N=16384, r=8, p=1, a 16-byte random
/// salt and a 64-byte key, through OpenSSL's libcrypto (never our own crypto).
///
/// Both functions cost ~50 ms of CPU and are pure: the server runs them on libuv's threadpool
/// (`ThreadpoolJob`), never on the loop.
enum PasswordHash {
    static let n: UInt64 = 16384
    static let r: UInt64 = 8
    static let p: UInt64 = 1
    static let keyLength = 64
    static let saltLength = 16
    /// scrypt needs 128·N·r·p bytes (16 MiB here); a stored string asking for more than this
    /// never verifies, so a forged hash cannot make a login allocate without bound.
    static let maxMemory: UInt64 = 64 * 1024 * 1024

    /// A fresh hash of `password` (nil only if the CSPRNG or scrypt fails).
    static func hash(_ password: String) -> String? {
        guard let salt = SecureRandom.bytes(saltLength),
              let key = derive(password, salt: salt, n: n, r: r, p: p, length: keyLength) else { return nil }
        return "$scrypt$\(n)$\(r)$\(p)$\(b64(salt))$\(b64(key))"
    }

    /// Whether `password` matches `stored`, compared in constant time; a string not in the
    /// format never verifies.
    static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        // "", "scrypt", N, r, p, salt, hash
        guard parts.count == 7, parts[0].isEmpty, parts[1] == "scrypt",
              let n = UInt64(parts[2]), let r = UInt64(parts[3]), let p = UInt64(parts[4]),
              n > 1, n & (n - 1) == 0, r > 0, p > 0, r <= 1024, p <= 1024,
              n <= maxMemory / 128, r * p <= maxMemory / (128 * n),
              let salt = Base64.decode(ArraySlice(parts[5].utf8)),
              let expected = Base64.decode(ArraySlice(parts[6].utf8)),
              !expected.isEmpty, expected.count <= 1024,
              let actual = derive(password, salt: salt, n: n, r: r, p: p, length: expected.count)
        else { return false }
        return actual.withUnsafeBytes { a in expected.withUnsafeBytes { e in CRYPTO_memcmp(a.baseAddress, e.baseAddress, a.count) == 0 } }
    }

    private static func b64(_ bytes: [UInt8]) -> String { String(decoding: Base64.encode(bytes), as: UTF8.self) }

    /// scrypt of `password` with the given salt and cost into `length` bytes.
    static func derive(_ password: String, salt: [UInt8], n: UInt64, r: UInt64, p: UInt64, length: Int) -> [UInt8]? {
        var key = [UInt8](repeating: 0, count: length)
        // A non-empty buffer, so that an empty password still has a valid pointer.
        let pw = Array(password.utf8) + [0]
        let rc = pw.withUnsafeBytes { pwp in
            salt.withUnsafeBufferPointer { sp in
                key.withUnsafeMutableBufferPointer { kp in
                    EVP_PBE_scrypt(pwp.baseAddress!.assumingMemoryBound(to: CChar.self), pw.count - 1,
                                   sp.baseAddress, sp.count, n, r, p, maxMemory + 1024 * 1024, kp.baseAddress, kp.count)
                }
            }
        }
        return rc == 1 ? key : nil
    }
}

/// Bytes and tokens from OpenSSL's CSPRNG.
enum SecureRandom {
    static func bytes(_ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        let rc = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        return rc == 1 ? out : nil
    }

    /// A random (version 4) UUID in lowercase text: session tokens and record ids.
    static func uuid() -> String {
        guard var b = bytes(16) else { fatalError("the system CSPRNG failed") }
        b[6] = b[6] & 0x0F | 0x40
        b[8] = b[8] & 0x3F | 0x80
        let hex = Array("0123456789abcdef".utf8)
        var s: [UInt8] = []
        s.reserveCapacity(36)
        for (i, byte) in b.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { s.append(UInt8(ascii: "-")) }
            s.append(hex[Int(byte >> 4)])
            s.append(hex[Int(byte & 15)])
        }
        return String(decoding: s, as: UTF8.self)
    }
}
