import Testing
@testable import NoexJSON

/// JSONTestSuite-style `n_` cases (and the `i_` cases this parser decides to reject):
/// texts a strict parser must refuse. Each is given as bytes so invalid UTF-8 can be written.
@Suite struct ParseRejectTests {
    static let textCases: [String] = [
        // arrays
        "[1 true]", #"["": 1]"#, #"[""],"#, "[,1]", "[1,,2]", #"["x",,]"#, #"["x"]]"#, #"["",]"#,
        #"["x""#, "[x", "[3[4]]", "[1:2]", "[,]", "[-]", #"[   , ""]"#, "[\"a\",\n4\n,1,", "[1,]",
        "[1,,]", "[\"\u{0B}a\"\\f]", "[*]", #"[""#, "[1,", "[1,\n1\n,1", "[{}", "[\u{0B}]", "[\u{0C}]",
        "[\u{A0}1]", "[\u{2060}]", "[\u{FEFF}]",
        // literals
        "[fals]", "[nul]", "[tru]", "nul", "tru", "fals", "Null", "TRUE", "undefined", "[True]",
        "[ false, nul", "[ true, fals", "[ false, tru",
        // numbers
        "[++1234]", "[+1]", "[+Inf]", "[-01]", "[-1.0.]", "[-2.]", "[-NaN]", "[.-1]", "[.2e-3]",
        "[0.1.2]", "[0.3e+]", "[0.3e]", "[0.e1]", "[0E+]", "[0E]", "[0e+]", "[0e]", "[1.0e+]",
        "[1.0e-]", "[1.0e]", "[1 000.0]", "[1eE2]", "[2.e+3]", "[2.e-3]", "[2.e3]", "[9.e+]",
        "[Inf]", "[NaN]", "[１]", "[1+2]", "[0x1]", "[0x42]", "[Infinity]", "[0e+-1]",
        "[-123.123foo]", "[-Infinity]", "[-foo]", "[- 1]", "[-012]", "[-.123]", "[-1x]", "[1ea]",
        "[1.]", "[.123]", "[1.2a-3]", "[1.8011670033376514H-308]", "[012]", "00", "01", "-",
        "1.", "1e", "1e+", "[1e1.5]", "[0.0.0]", "[\u{661}]", "[1_000]", "[1,000]", "[00.1]",
        // objects
        #"["x", truth]"#, #"{[: "x"}"#, #"{"x", null}"#, #"{"x"::"b"}"#, "{🇨🇭}", #"{"a":"a" 123}"#,
        "{key: 'value'}", #"{"a" b}"#, #"{:"b"}"#, #"{"a" "b"}"#, #"{"a":"#, #"{"a""#, "{1:1}",
        "{9999E9999:1}", "{null:null,null:null}", #"{"id":0,,,,,}"#, "{'a':0}", #"{"id":0,}"#,
        #"{"a":"b"}/**/"#, #"{"a":"b"}//"#, #"{"a":"b",,"c":"d"}"#, #"{a: "b"}"#, #"{"a":"a"#,
        #"{ "foo" : "bar", "a" }"#, #"{"a":"b"}#"#, #"{"a":/*comment*/"b"}"#, "{,}", #"{"a":1,}"#,
        #"{"a"}"#, #"{"a":}"#,
        // strings
        #"["\uD800\"]"#, #"["\uD800\u"]"#, #"["\uD800\u1"]"#, #"["\uD800\u1x"]"#, "[é]",
        "[\"\\\u{0}\"]", #"["\x00"]"#, #"["\\\"]"#, "[\"\\\t\"]", "[\"\\🌀\"]", #"["\"]"#,
        #"["\u00A"]"#, #"["\uD834\uDd"]"#, #"["\a"]"#, #"["\uqqqq"]"#, #"[\u0020"asd"]"#, #"[\n]"#,
        "\"", "['single quote']", "abc", #"["\"#, "[\"a\u{0}a\"]", "[\"new\nline\"]", "[\"\t\"]",
        #""\UA66D""#, #"""x"#, #"["\u"]"#, #"["\u12"]"#, #"["\'"]"#, "[\"\u{1F}\"]", "[\"\r\"]",
        // structure
        "<.>", "[<null>]", "[1]x", "[1]]", #"["asd]"#, "aå", "1]", #"{"x": true,"#, "[][]", "]",
        "\u{FEFF}{}", "\u{0}", "[\u{0}]", "2@", "{}}", #"{"":"#, #"{"a": true} "x""#, "['", "[,",
        "[{", #"["a"#, #"["a","#, "{", "{[", #"{"a"#, "{'a'", #"["\{["\{["\{["\{"#, "é", "*",
        #"{"a":"b"}#{}"#, #"[\u000A""]"#, "[1", #"{"asd":"asd""#, "å", "", " ", "\n\t ",
        "[\"a\"] [\"b\"]", "1 2", "nulll", "truefalse", "{\"a\":1}\u{0}",
    ]

    @Test(arguments: textCases)
    func rejectsText(_ text: String) {
        #expect(parseError(text) != nil, "accepted: \(text)")
    }

    /// Invalid UTF-8, anywhere: inside strings and outside them.
    static let byteCases: [[UInt8]] = [
        [0x5B, 0x61, 0xE5, 0x5D],                        // [a\xe5]
        [0x5B, 0xFF, 0x5D],                              // [\xff]
        [0x5B, 0x31, 0x32, 0x33, 0xE5, 0x5D],            // [123\xe5]
        [0x5B, 0x22, 0x5C, 0xE5, 0x22, 0x5D],            // ["\\xe5"]
        [0x5B, 0x22, 0x5C, 0x75, 0xE5, 0x22, 0x5D],      // ["\u\xe5"]
        [0x22, 0xE9, 0x22],                              // lone lead byte
        [0x22, 0x80, 0x22],                              // lone continuation
        [0x22, 0xBF, 0x22],
        [0x22, 0xC0, 0xAF, 0x22],                        // overlong "/"
        [0x22, 0xC1, 0xBF, 0x22],                        // overlong
        [0x22, 0xE0, 0x80, 0xAF, 0x22],                  // overlong 3-byte
        [0x22, 0xE0, 0x9F, 0xBF, 0x22],                  // overlong 3-byte (U+07FF)
        [0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22],            // overlong 4-byte
        [0x22, 0xF0, 0x8F, 0xBF, 0xBF, 0x22],            // overlong 4-byte (U+FFFF)
        [0x22, 0xED, 0xA0, 0x80, 0x22],                  // encoded surrogate U+D800
        [0x22, 0xED, 0xBF, 0xBF, 0x22],                  // encoded surrogate U+DFFF
        [0x22, 0xED, 0xA0, 0xBD, 0xED, 0xB2, 0xA9, 0x22], // CESU-8 pair
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],            // U+110000
        [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22],
        [0x22, 0xF8, 0x88, 0x80, 0x80, 0x80, 0x22],      // 5-byte form
        [0x22, 0xFC, 0x84, 0x80, 0x80, 0x80, 0x80, 0x22], // 6-byte form
        [0x22, 0xFE, 0x22], [0x22, 0xFF, 0x22],
        [0x22, 0xE6, 0x97, 0x22],                        // truncated 3-byte
        [0x22, 0xC2, 0x22],                              // truncated 2-byte
        [0x22, 0xF0, 0x9F, 0x98, 0x22],                  // truncated 4-byte
        [0x22, 0xE2, 0x82],                              // truncated at end of input
        [0x22, 0xC3, 0x28, 0x22],                        // bad continuation
        [0x7B, 0x22, 0x61, 0xFF, 0x22, 0x3A, 0x31, 0x7D], // in a key
        [0xEF, 0xBB, 0xBF, 0x5B, 0x5D],                  // BOM before []
    ]

    @Test(arguments: byteCases)
    func rejectsBytes(_ bytes: [UInt8]) {
        #expect(parseError(bytes) != nil, "accepted: \(bytes)")
    }

    @Test func validMultiByteSequencesAtTheEdgesOfTheTable() throws {
        // U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFD, U+10000, U+10FFFF written raw.
        let scalars: [UInt32] = [0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0x10000, 0x10FFFF]
        for s in scalars {
            let text = "\"" + String(Unicode.Scalar(s)!) + "\""
            #expect(try JSON.parse(Array(text.utf8)) == .string(String(Unicode.Scalar(s)!)))
        }
    }
}
