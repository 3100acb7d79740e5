import Testing
@testable import NoexJSON

@Suite struct LimitsAndErrorTests {
    func nested(_ depth: Int, open: String = "[", close: String = "]", inner: String = "") -> String {
        String(repeating: open, count: depth) + inner + String(repeating: close, count: depth)
    }

    @Test func defaultDepthLimitIs512() {
        #expect(parseError(nested(512)) == nil)
        let e = parseError(nested(513))
        #expect(e?.kind == .depthLimitExceeded)
        #expect(e?.offset == 512)
    }

    @Test func depthCountsObjectsAndArraysTogether() {
        let limits = JSONLimits(maxDepth: 3)
        #expect(parseError(#"{"a":[{"b":1}]}"#, limits: limits) == nil)
        #expect(parseError(#"{"a":[{"b":[]}]}"#, limits: limits)?.kind == .depthLimitExceeded)
        #expect(parseError(#"{"a":[{"b":[]}]}"#, limits: limits)?.offset == 11)
        #expect(parseError("1", limits: JSONLimits(maxDepth: 0)) == nil)
        #expect(parseError("[]", limits: JSONLimits(maxDepth: 0))?.kind == .depthLimitExceeded)
    }

    @Test func hostileDepthFailsCleanly() {
        let e = parseError(nested(100_000))
        #expect(e?.kind == .depthLimitExceeded)
        let o = parseError(nested(100_000, open: #"{"a":"#, close: "}", inner: "1"))
        #expect(o?.kind == .depthLimitExceeded)
    }

    @Test func sizeLimit() {
        let limits = JSONLimits(maxBytes: 10)
        #expect(parseError("[1,2,3,4]", limits: limits) == nil)  // 9 bytes
        #expect(parseError("[1,2,3,45]", limits: limits) == nil)  // 10 bytes
        let e = parseError("[1,2,3,456]", limits: limits)
        #expect(e?.kind == .sizeLimitExceeded)
        #expect(e?.offset == 10)
    }

    @Test func garbageAfterTheValueIsRejectedWithItsOffset() {
        let bytes: [UInt8] = Array(#"{"id":1} x"#.utf8)
        let e = parseError(bytes)
        #expect(e?.kind == .trailingData)
        #expect(e?.offset == 9)
        #expect(e?.byte == UInt8(ascii: "x"))
        #expect(parseError(Array("[1]\u{0}".utf8))?.kind == .trailingData)
        #expect(parseError(Array("1 2".utf8))?.offset == 2)
        #expect(parseError(Array("\"a\"\"b\"".utf8))?.offset == 3)
        #expect(parseError(Array("{} \n\t ".utf8)) == nil)
    }

    @Test func emptyInput() {
        #expect(parseError([UInt8]())?.kind == .unexpectedEnd)
        #expect(parseError([UInt8]())?.offset == 0)
        #expect(parseError("   ")?.kind == .unexpectedEnd)
        #expect(parseError("   ")?.offset == 3)
        #expect((try? JSON.parse(UnsafeRawBufferPointer(start: nil, count: 0))) == nil)
    }

    @Test func offsetsOfStructuralErrors() {
        #expect(parseError(#"{"a":1,}"#)?.offset == 7)
        #expect(parseError(#"{"a":1,}"#)?.kind == .unexpectedByte)
        #expect(parseError("[1,]")?.offset == 3)
        #expect(parseError(#"{"a" 1}"#)?.offset == 5)
        #expect(parseError("[1 2]")?.offset == 3)
        #expect(parseError("[tru]")?.offset == 4)
        #expect(parseError("[nulx]")?.offset == 4)
        #expect(parseError("tru")?.kind == .unexpectedEnd)
        #expect(parseError("tru")?.offset == 3)
        #expect(parseError("[1")?.kind == .unexpectedEnd)
        #expect(parseError("[1")?.offset == 2)
        #expect(parseError("{1:1}")?.offset == 1)
        #expect(parseError("  @")?.offset == 2)
    }

    @Test func messagesNameTheProblemAndTheOffset() {
        #expect(parseError("[1,]")?.message == "Unexpected character ']' at offset 3")
        #expect(parseError("[1")?.message == "Unexpected end of JSON input at offset 2")
        #expect(parseError([0x22, 0xFF, 0x22])?.message == "Invalid UTF-8 byte 0xff at offset 1")
        #expect(parseError("[\"\n\"]")?.message == "Bad control character byte 0x0a in string literal at offset 2")
        #expect(parseError("1 x")?.message == "Unexpected non-whitespace character 'x' after JSON value at offset 2")
        #expect(parseError(nested(600))?.message == "Nesting too deep at offset 512")
        #expect(parseError("[01]")?.description == "Invalid number near character '1' at offset 2")
    }

    @Test func errorsAreValues() {
        let a = parseError("[1,]")
        let b = parseError("[1,]")
        #expect(a != nil && a == b)
        #expect(a != parseError("[1,,"))
    }
}
