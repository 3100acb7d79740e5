import Testing
@testable import NoexJSON

/// JSONTestSuite-style `y_` cases: texts every conforming parser must accept, with the value
/// each must produce.
@Suite struct ParseAcceptTests {
    static let cases: [(String, JSON)] = [
        // arrays
        (#"[[]   ]"#, [[]]),
        (#"[""]"#, [""]),
        (#"[]"#, []),
        (#"["a"]"#, ["a"]),
        (#"[false]"#, [false]),
        (#"[null, 1, "1", {}]"#, [.null, 1, "1", .object([:])]),
        (#"[null]"#, [.null]),
        ("[1\n]", [1]),
        (" [1]", [1]),
        (#"[1,null,null,null,2]"#, [1, .null, .null, .null, 2]),
        ("[2] ", [2]),
        // numbers
        (#"[123e65]"#, [.double(123e65)]),
        (#"[0e+1]"#, [.double(0)]),
        (#"[0e1]"#, [.double(0)]),
        (#"[ 4]"#, [4]),
        (#"[-0.000000000000000000000000000000000000000000000000000000000000000000000000000000001]"#, [.double(-1e-81)]),
        (#"[20e1]"#, [.double(200)]),
        (#"[-0]"#, [.int(0)]),
        (#"[-123]"#, [-123]),
        (#"[-1]"#, [-1]),
        (#"[1E22]"#, [.double(1e22)]),
        (#"[1E-2]"#, [.double(0.01)]),
        (#"[1E+2]"#, [.double(100)]),
        (#"[123e45]"#, [.double(123e45)]),
        (#"[123.456e78]"#, [.double(123.456e78)]),
        (#"[1e-2]"#, [.double(0.01)]),
        (#"[1e+2]"#, [.double(100)]),
        (#"[123]"#, [123]),
        (#"[123.456789]"#, [.double(123.456789)]),
        // objects
        (#"{"asd":"sdf", "dfg":"fgh"}"#, ["asd": "sdf", "dfg": "fgh"]),
        (#"{"asd":"sdf"}"#, ["asd": "sdf"]),
        (#"{"a":"b","a":"c"}"#, ["a": "c"]),
        (#"{"a":"b","a":"b"}"#, ["a": "b"]),
        (#"{}"#, .object([:])),
        (#"{"":0}"#, ["": 0]),
        (#"{"foo\u0000bar": 42}"#, ["foo\u{0}bar": 42]),
        (#"{ "min": -1.0e+28, "max": 1.0e+28 }"#, ["min": .double(-1e28), "max": .double(1e28)]),
        (#"{"a":[]}"#, ["a": []]),
        (#"{"title":"\u041f\u043e\u043b\u0442\u043e\u0440\u0430 \u0417\u0435\u043c\u043b\u0435\u043a\u043e\u043f\u0430" }"#,
         ["title": "Полтора Землекопа"]),
        ("{\n\"a\": \"b\"\n}", ["a": "b"]),
        // strings
        (#"["\u0060\u012a\u12AB"]"#, ["\u{60}\u{12a}\u{12ab}"]),
        (#"["\uD801\udc37"]"#, ["\u{10437}"]),
        (#"["\ud83d\ude39\ud83d\udc8d"]"#, ["😹💍"]),
        (#"["\"\\\/\b\f\n\r\t"]"#, ["\"\\/\u{8}\u{c}\n\r\t"]),
        (#"["\\u0000"]"#, [#"\u0000"#]),
        (#"["\""]"#, ["\""]),
        (#"["a/*b*/c/*d//e"]"#, ["a/*b*/c/*d//e"]),
        (#"["\\a"]"#, [#"\a"#]),
        (#"["\\n"]"#, [#"\n"#]),
        (#"["\u0012"]"#, ["\u{12}"]),
        (#"["\uFFFF"]"#, ["\u{FFFF}"]),
        (#"["asd"]"#, ["asd"]),
        (#"[ "asd"]"#, ["asd"]),
        (#"["\uDBFF\uDFFF"]"#, ["\u{10FFFF}"]),
        (#"["new\u00A0line"]"#, ["new\u{A0}line"]),
        ("[\"\u{10FFFF}\"]", ["\u{10FFFF}"]),
        ("[\"\u{FFFF}\"]", ["\u{FFFF}"]),
        ("[\"\u{1BFFF}\"]", ["\u{1BFFF}"]),
        (#"["\u0000"]"#, ["\u{0}"]),
        (#"["\u002c"]"#, [","]),
        ("[\"π\"]", ["π"]),
        (#"["asd "]"#, ["asd "]),
        (#"" ""#, " "),
        (#"["\uD834\uDd1e"]"#, ["𝄞"]),
        (#"["\u0821"]"#, ["\u{821}"]),
        (#"["\u0123"]"#, ["\u{123}"]),
        ("[\"\u{2028}\"]", ["\u{2028}"]),
        ("[\"\u{2029}\"]", ["\u{2029}"]),
        (#"["\u0061\u30af\u30EA\u30b9"]"#, ["aクリス"]),
        (#"["new\u000Aline"]"#, ["new\nline"]),
        ("[\"\u{7F}\"]", ["\u{7F}"]),
        (#"["\uA66D"]"#, ["\u{A66D}"]),
        (#"["\u005C"]"#, ["\\"]),
        ("[\"⍂㈴⍂\"]", ["⍂㈴⍂"]),
        ("[\"€𝄞\"]", ["€𝄞"]),
        ("[\"a\u{7F}a\"]", ["a\u{7F}a"]),
        // structure
        ("false", false),
        ("42", 42),
        ("-0.1", .double(-0.1)),
        ("null", .null),
        (#""asd""#, "asd"),
        ("true", true),
        (#""""#, ""),
        ("[\"a\"]\n", ["a"]),
        ("[true]", [true]),
        (" [] ", []),
        (" \t\r\n{ \"a\" : [ 1 , { } ] } \n", ["a": [1, .object([:])]]),
    ]

    @Test(arguments: cases)
    func accepts(_ text: String, _ expected: JSON) throws {
        let value = try mustParse(text)
        #expect(identical(value, expected), "\(text) parsed as \(value)")
    }

    @Test func allEntryPointsAgree() throws {
        let text = #"{"id":1,"type":"store.get","payload":{"bucket":"users","key":"a1"}}"#
        let fromString = try JSON.parse(text)
        let fromArray = try JSON.parse(Array(text.utf8))
        let fromRaw = try Array(text.utf8).withUnsafeBytes { raw in try JSON.parse(raw) }
        #expect(identical(fromString, fromArray))
        #expect(identical(fromString, fromRaw))
        #expect(fromString["payload"]?["bucket"] == "users")
        #expect(fromString.objectValue?.keys == ["id", "type", "payload"])
    }

    @Test func duplicateKeysLastWinsAtFirstPosition() throws {
        let value = try mustParse(#"{"a":1,"b":2,"a":3}"#)
        #expect(value.objectValue?.keys == ["a", "b"])
        #expect(value["a"] == 3)
        #expect(value.jsonString == #"{"a":3,"b":2}"#)
    }

    @Test func deepButAllowedNesting() throws {
        let depth = 512
        let text = String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth)
        var value = try mustParse(text)
        var levels = 0
        while case .array(let a) = value {
            levels += 1
            value = a[0]
        }
        #expect(levels == depth)
        #expect(value == 1)
    }
}
