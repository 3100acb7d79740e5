import Testing
@testable import NoexJSON

@Suite struct SerializeTests {
    /// Expected outputs are what Node's `JSON.stringify` writes for the same value.
    static let cases: [(JSON, String)] = [
        (.null, "null"), (true, "true"), (false, "false"), (0, "0"), (-7, "-7"),
        (.int(.max), "9223372036854775807"), (.int(.min), "-9223372036854775808"),
        (.double(1.0), "1"), (.double(-0.0), "0"), (.double(0.5), "0.5"),
        (.double(.nan), "null"), (.double(.infinity), "null"), (.double(-.infinity), "null"),
        ("", #""""#), ("abc", #""abc""#), ([], "[]"), (.object([:]), "{}"),
        ([1, "two", .null, [true], ["k": false]], #"[1,"two",null,[true],{"k":false}]"#),
        (["z": 1, "a": 2, "m": ["y": [], "b": .object([:])]], #"{"z":1,"a":2,"m":{"y":[],"b":{}}}"#),
        (["id": 1, "type": "result", "data": ["bucket": "users", "key": "a1", "score": .double(4.5)]],
         #"{"id":1,"type":"result","data":{"bucket":"users","key":"a1","score":4.5}}"#),
        // string escaping
        ("\"", #""\"""#), ("\\", #""\\""#), ("/", #""/""#), ("a/b</script>", #""a/b</script>""#),
        ("\u{8}\u{C}\n\r\t", #""\b\f\n\r\t""#), ("\u{0}", #""\u0000""#), ("\u{1}", #""\u0001""#),
        ("\u{1F}", #""\u001f""#), ("\u{1A}\u{1B}", #""\u001a\u001b""#), ("\u{B}", #""\u000b""#),
        ("\u{7F}", "\"\u{7F}\""), ("\u{80}", "\"\u{80}\""), ("é€😀", "\"é€😀\""),
        ("\u{2028}\u{2029}", "\"\u{2028}\u{2029}\""), ("\u{FFFD}", "\"\u{FFFD}\""),
        ("say \"hi\"\n\tand \\ leave", #""say \"hi\"\n\tand \\ leave""#),
        (["k\"ey\n": "v"], #"{"k\"ey\n":"v"}"#),
    ]

    @Test(arguments: cases)
    func writesWhatJSONStringifyWrites(_ value: JSON, _ expected: String) {
        #expect(value.jsonString == expected)
        #expect(value.serializedBytes == Array(expected.utf8))
    }

    @Test func serializeAppendsToExistingBytes() {
        var buffer: [UInt8] = Array("prefix:".utf8)
        JSON.array([1, 2]).serialize(into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "prefix:[1,2]")
    }

    @Test func objectSerializesLikeItsValue() {
        let object: JSONObject = ["b": 1, "a": ["x": .null]]
        #expect(object.jsonString == #"{"b":1,"a":{"x":null}}"#)
        #expect(object.serializedBytes == JSON.object(object).serializedBytes)
    }

    @Test func keyOrderFollowsInsertionAndUpdates() {
        var o = JSONObject()
        o["second"] = 2
        o["first"] = 1
        o["second"] = 22
        o["third"] = 3
        o["first"] = nil
        o["first"] = 11
        #expect(o.jsonString == #"{"second":22,"third":3,"first":11}"#)
    }

    @Test func parsedTextReserializesByteForByte() throws {
        let texts = [
            #"{"id":1,"type":"store.get","payload":{"bucket":"users","key":"a1"}}"#,
            #"{"id":7,"type":"result","data":[{"id":"x","n":-3,"f":0.25,"t":true,"z":null,"s":"é\n"}]}"#,
            #"[1e+21,1e-7,123456789012345680000,0.000001,"\u0001"]"#,
        ]
        for text in texts {
            #expect(try JSON.parse(text).jsonString == text)
        }
    }

    @Test func everyControlCharacterEscapesLikeJavaScript() {
        let named: [UInt8: String] = [8: #"\b"#, 9: #"\t"#, 10: #"\n"#, 12: #"\f"#, 13: #"\r"#]
        let hex = Array("0123456789abcdef")
        for c in UInt8(0)..<0x20 {
            let expected = named[c] ?? #"\u00"# + String(hex[Int(c >> 4)]) + String(hex[Int(c & 0xF)])
            #expect(JSON.string(String(UnicodeScalar(c))).jsonString == "\"" + expected + "\"")
        }
    }

    @Test func serializeStringHelper() {
        var buffer: [UInt8] = []
        JSON.serializeString("a\"b", into: &buffer)
        #expect(buffer == Array(#""a\"b""#.utf8))
    }
}
