import Testing
@testable import NoexJSON

/// Object keys taken from the parser's table of common keys give the same objects (and the
/// same serialisation and errors) as keys built from the input.
@Suite struct CommonKeyTests {
    @Test func commonKeysParseToTheirText() throws {
        for key in JSONParser.commonKeyStrings {
            let text = #"{"\#(key)":1,"\#(key)x":2,"x\#(key)":3}"#
            let value = try JSON.parse(Array(text.utf8))
            #expect(value.objectValue?.keys == [key, key + "x", "x" + key])
            #expect(value.objectValue?[key] == 1)
            #expect(value.serializedBytes == Array(text.utf8))
        }
    }

    @Test func prefixesEscapesAndLongKeysTakeTheGeneralPath() throws {
        let text = #"{"i":1,"ty":2,"ty\u0070e":3,"subscriptionIdX":4,"a_very_long_key_name":5,"dätä":6}"#
        let value = try JSON.parse(Array(text.utf8))
        #expect(value.objectValue?.keys == ["i", "ty", "type", "subscriptionIdX", "a_very_long_key_name", "dätä"])
        #expect(value.objectValue?["type"] == 3)
    }

    @Test func unterminatedAndBadKeysStillFail() {
        for text in [#"{"id"#, #"{"type"#, "{\"ty\u{1}pe\":1}", #"{"id" 1}"#] {
            #expect(throws: JSONParseError.self) { try JSON.parse(Array(text.utf8)) }
        }
    }
}
