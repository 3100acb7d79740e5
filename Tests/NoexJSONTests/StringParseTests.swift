import Testing
@testable import NoexJSON

@Suite struct StringParseTests {
    static let escapes: [(String, String)] = [
        (#""\"""#, "\""), (#""\\""#, "\\"), (#""\/""#, "/"), (#""\b""#, "\u{8}"), (#""\f""#, "\u{C}"),
        (#""\n""#, "\n"), (#""\r""#, "\r"), (#""\t""#, "\t"), (#""\u0041""#, "A"), (#""\u00e9""#, "é"),
        (#""\u00E9""#, "é"), (#""\u20AC""#, "€"), (#""\ud83d\ude00""#, "😀"), (#""\uD83D\uDE00""#, "😀"),
        (#""a\u0000b""#, "a\u{0}b"), (#""\u001f""#, "\u{1F}"),
        (#""prefix \"quoted\" and \\ backslash""#, "prefix \"quoted\" and \\ backslash"),
        (#""mixed é \u00e9 😀 \ud83d\ude00""#, "mixed é é 😀 😀"),
        (#""\\\\\\""#, "\\\\\\"), (#""\n\n""#, "\n\n"), (#""end\n""#, "end\n"), (#""\nstart""#, "\nstart"),
    ]

    @Test(arguments: escapes)
    func decodesEscapes(_ text: String, _ expected: String) throws {
        #expect(try JSON.parse(text) == .string(expected))
    }

    /// Decision: a `\u` escape of a lone surrogate decodes to U+FFFD (JavaScript keeps the
    /// lone UTF-16 unit, which a Swift String cannot hold; rejecting would refuse requests the
    /// original accepts). A high surrogate followed by an escape that is not a low surrogate
    /// leaves that escape to be decoded on its own.
    static let loneSurrogates: [(String, String)] = [
        (#""\ud800""#, "\u{FFFD}"),
        (#""\udc00""#, "\u{FFFD}"),
        (#""\udfff""#, "\u{FFFD}"),
        (#""a\ud800b""#, "a\u{FFFD}b"),
        (#""\ud800\ud800""#, "\u{FFFD}\u{FFFD}"),
        (#""\ud800\u0041""#, "\u{FFFD}A"),
        (#""\ud800\n""#, "\u{FFFD}\n"),
        (#""\udc00\ud800""#, "\u{FFFD}\u{FFFD}"),
        (#""\ud800\ud800\udc00""#, "\u{FFFD}\u{10000}"),
        (#""\ud83d""#, "\u{FFFD}"),
    ]

    @Test(arguments: loneSurrogates)
    func loneSurrogatesBecomeReplacementCharacters(_ text: String, _ expected: String) throws {
        #expect(try JSON.parse(text) == .string(expected))
    }

    @Test func rawNonASCIIPassesThroughUnchanged() throws {
        let samples = ["héllo", "日本語テキスト", "emoji 😀👍🏽", "Ελληνικά", "\u{10FFFF}", "mixed ascii and ü"]
        for s in samples {
            #expect(try JSON.parse("\"" + s + "\"") == .string(s))
            #expect(try JSON.parse(#"{"k":""# + s + #""}"#)["k"] == .string(s))
        }
    }

    @Test func longStringsWithAndWithoutEscapes() throws {
        let plain = String(repeating: "abcdefghij", count: 10_000)
        #expect(try JSON.parse("\"" + plain + "\"") == .string(plain))
        let escaped = String(repeating: #"ab\"c\\d\n"#, count: 5_000)
        let expected = String(repeating: "ab\"c\\d\n", count: 5_000)
        #expect(try JSON.parse("\"" + escaped + "\"") == .string(expected))
    }

    @Test func scratchBufferDoesNotLeakBetweenStrings() throws {
        let value = try JSON.parse(#"["long escaped\nstring here", "a\tb", "x"]"#)
        #expect(value == ["long escaped\nstring here", "a\tb", "x"])
    }

    @Test func errorKindsAndOffsets() {
        var e = parseError("[\"a\u{1}\"]")
        #expect(e?.kind == .controlCharacterInString)
        #expect(e?.offset == 3)
        #expect(e?.byte == 1)
        e = parseError(#"["ab\x"]"#)
        #expect(e?.kind == .invalidEscape)
        #expect(e?.offset == 5)
        e = parseError(#"["\u12G4"]"#)
        #expect(e?.kind == .invalidEscape)
        #expect(e?.offset == 6)
        e = parseError([0x22, 0x61, 0xC3, 0x28, 0x22])
        #expect(e?.kind == .invalidUTF8)
        #expect(e?.offset == 3)
        e = parseError([0x22, 0x61, 0xFF, 0x22])
        #expect(e?.kind == .invalidUTF8)
        #expect(e?.offset == 2)
        e = parseError([0x22, 0xED, 0xA0, 0x80, 0x22])
        #expect(e?.kind == .invalidUTF8)
        #expect(e?.offset == 2)
        e = parseError(#""abc"#)
        #expect(e?.kind == .unexpectedEnd)
        #expect(e?.offset == 4)
        e = parseError(#""abc\"#)
        #expect(e?.kind == .unexpectedEnd)
        e = parseError(#""\u12"#)
        #expect(e?.kind == .unexpectedEnd)
    }
}
