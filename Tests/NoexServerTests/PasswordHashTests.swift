import Testing
@testable import NoexServer

/// scrypt hashes in the original's format (docs/identity.md#passwords).
@Suite struct PasswordHashTests {
    /// Made by Node's `crypto.scryptSync("password1234", salt, 64, {N: 16384, r: 8, p: 1})`, as the
    /// original stores it: a hash from the original verifies here.
    static let fromNode = "$scrypt$16384$8$1$ABEiM0RVZneImaq7zN3u/w==$IYReZZDDeUlv8KxDFv4q3QBzaREHi8NHeH8NY2HTNKoUtGfHU48xE1lsmHF6va+J1p7K9SDzKsiq1A8LyPJNZw=="

    @Test func verifiesTheOriginalsHash() {
        #expect(PasswordHash.verify("password1234", against: Self.fromNode))
        #expect(!PasswordHash.verify("password1235", against: Self.fromNode))
    }

    @Test func hashesInTheOriginalsFormat() throws {
        let h = try #require(PasswordHash.hash("correct horse"))
        let parts = h.split(separator: "$", omittingEmptySubsequences: false)
        #expect(parts.count == 7 && parts[1] == "scrypt" && parts[2] == "16384" && parts[3] == "8" && parts[4] == "1")
        #expect(parts[5].count == 24 && parts[6].count == 88)  // 16 and 64 bytes in padded base64
        #expect(PasswordHash.verify("correct horse", against: h))
        #expect(!PasswordHash.verify("correct horsE", against: h))
        #expect(h != PasswordHash.hash("correct horse"))  // a fresh salt each time
    }

    @Test func malformedOrCostlyStringsNeverVerify() {
        for bad in ["", "plain", "$scrypt$16384$8$1$AAAA", "$bcrypt$16384$8$1$AAAA$AAAA", "$scrypt$16383$8$1$AAAA$AAAA",
                    "$scrypt$1048576$8$1$AAAA$AAAA", "$scrypt$16384$8$1$!!!!$AAAA", "$scrypt$16384$0$1$AAAA$AAAA",
                    "$scrypt$9223372036854775808$8$1$AAAA$AAAA", "$scrypt$16384$8$1$AAAA$"] {
            #expect(!PasswordHash.verify("x", against: bad), "\(bad)")
        }
    }

    @Test func tokensAreVersion4UUIDs() {
        let t = SecureRandom.uuid()
        #expect(t.count == 36)
        let b = Array(t.utf8)
        #expect(b[14] == UInt8(ascii: "4") && [UInt8(ascii: "8"), UInt8(ascii: "9"), UInt8(ascii: "a"), UInt8(ascii: "b")].contains(b[19]))
        #expect(t != SecureRandom.uuid())
    }
}
