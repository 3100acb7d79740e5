import Testing
@testable import NoexJSON

@Suite struct PathAndHelperTests {
    let doc: JSON = [
        "id": 3,
        "payload": ["bucket": "users", "items": [["id": "a"], ["id": "b", "tags": ["x", "y"]]], "a.b": true],
    ]

    @Test func walksObjectsAndArrays() {
        #expect(doc.value(atPath: "id") == 3)
        #expect(doc.value(atPath: "payload.bucket") == "users")
        #expect(doc.value(atPath: "payload.items.1.id") == "b")
        #expect(doc.value(atPath: "payload.items.1.tags.0") == "x")
        #expect(doc.value(atPath: "") == doc)
    }

    @Test func missingStepsAreNil() {
        #expect(doc.value(atPath: "nope") == nil)
        #expect(doc.value(atPath: "payload.items.2") == nil)
        #expect(doc.value(atPath: "payload.items.-1") == nil)
        #expect(doc.value(atPath: "payload.items.x") == nil)
        #expect(doc.value(atPath: "id.deeper") == nil)
        #expect(doc.value(atPath: "payload.a.b") == nil)  // dotted keys are not reachable by path
        #expect(doc.value(atPath: "payload..bucket") == nil)
    }

    @Test func appendHelpersWriteToExistingBuffers() {
        var buffer: [UInt8] = Array("x=".utf8)
        JSNumberFormat.append(-12 as Int64, to: &buffer)
        buffer.append(UInt8(ascii: ","))
        JSNumberFormat.append(1e21, to: &buffer)
        buffer.append(UInt8(ascii: ","))
        JSNumberFormat.append(Double.nan, to: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "x=-12,1e+21,null")
    }

    @Test func largeOutputsGrowTheWriter() throws {
        let big = JSON.array((0..<5_000).map { JSON.object(["i": .int(Int64($0)), "s": .string(String(repeating: "é", count: $0 % 50))]) })
        let bytes = big.serializedBytes
        #expect(try JSON.parse(bytes) == big)
        var appended: [UInt8] = [1, 2, 3]
        big.serialize(into: &appended)
        #expect(Array(appended.dropFirst(3)) == bytes)
        #expect(big.jsonString.utf8.count == bytes.count)
    }
}
