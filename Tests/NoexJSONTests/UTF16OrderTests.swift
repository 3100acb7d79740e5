import Testing

@testable import NoexJSON

/// `JSValue.utf16Less` reads UTF-8 bytes but must order strings as JavaScript does, by UTF-16
/// code units: code points above U+FFFF (surrogate pairs) sort before U+E000–U+FFFF.
@Suite struct UTF16OrderTests {
    @Test func matchesComparingUTF16CodeUnits() {
        var rng = SeededRandom(seed: 77)
        // ASCII, two-byte, three-byte below and above the surrogates, four-byte scalars.
        let alphabet: [Unicode.Scalar] = ["a", "B", "z", "0", "\u{7F}", "é", "\u{7FF}", "\u{800}", "\u{D7FF}", "\u{E000}",
                                          "\u{FF21}", "\u{FFFF}", "\u{10000}", "😀", "\u{1D49C}", "\u{10FFFF}"]
        func random() -> String {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...4, using: &rng) { s.append(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]) }
            return String(s)
        }
        for _ in 0..<20_000 {
            let a = random()
            let b = Bool.random(using: &rng) ? random() : a + random()  // prefixes too
            let want = Array(a.utf16).lexicographicallyPrecedes(Array(b.utf16))
            #expect(JSValue.utf16Less(a, b) == want, "\(a.debugDescription) < \(b.debugDescription)")
            #expect(JSValue.utf16Less(b, a) == Array(b.utf16).lexicographicallyPrecedes(Array(a.utf16)))
        }
        #expect(JSValue.utf16Less("😀", "\u{FF21}") && !JSValue.utf16Less("\u{FF21}", "😀"))
        #expect(JSValue.utf16Less("B", "a") && !JSValue.utf16Less("a", "a") && JSValue.utf16Less("", "a"))
    }
}
