import Testing
@testable import NoexJSON

/// `JSONObject.attachText`: the attached text is exactly the serialisation of the members, and
/// every kind of change drops it, on the changed copy only.
@Suite struct AttachedTextTests {
    /// The text of the same members built afresh (no text attached anywhere).
    func fresh(_ o: JSONObject) -> String {
        String(decoding: JSONObject(o.map { ($0.key, $0.value) }).serializedBytes, as: UTF8.self)
    }

    func text(_ o: JSONObject) -> String { String(decoding: o.serializedBytes, as: UTF8.self) }

    func attached(_ o: JSONObject) -> JSONObject {
        var copy = o
        copy.attachText()
        return copy
    }

    let record: JSONObject = ["id": "a1", "n": 3, "tags": ["x", "y"], "2": true, "note": "quote \" and \\"]

    @Test func attachedTextIsTheSerialisation() {
        let o = attached(record)
        #expect(o.attachedText != nil)
        #expect(text(o) == fresh(record))
        #expect(JSON.object(o).jsonString == JSON.object(record).jsonString)
        var buffer: [UInt8] = [0x41]
        o.serialize(into: &buffer)
        #expect(buffer == [0x41] + record.serializedBytes)
        // Nested: the outer object writes the inner one's text.
        let outer: JSON = ["data": .object(o), "id": 1]
        #expect(outer.jsonString == #"{"data":"# + fresh(record) + #","id":1}"#)
    }

    @Test(arguments: 0..<6)
    func everyChangeDropsTheText(_ change: Int) {
        let original = attached(record)
        var o = original
        switch change {
        case 0: o["n"] = 4                      // update in place
        case 1: o["added"] = "new"              // new key at the end
        case 2: o["1"] = .null                  // new array-index key (goes first)
        case 3: o["tags"] = nil                 // removal
        case 4: _ = o.removeValue(forKey: "id")
        default: o["n"] = 3                     // same value written again
        }
        #expect(o.attachedText == nil)
        #expect(text(o) == fresh(o))
        // The unchanged original keeps its text and its members.
        #expect(original.attachedText != nil)
        #expect(text(original) == fresh(record))
    }

    @Test func reservingKeepsMembersAndText() {
        var o = attached(record)
        o.reserveCapacity(32)
        #expect(text(o) == fresh(record))
        o["more"] = 1
        #expect(text(o) == fresh(o))
        #expect(text(o).hasSuffix(#","more":1}"#))
    }

    /// The text reference takes the word the stored index-key count used to take (that count
    /// is computed now), so objects, and every `JSON` value, did not grow.
    @Test func layout() {
        #expect(MemoryLayout<JSONObject>.size == 32)
        #expect(MemoryLayout<JSON>.stride == 32)
    }

    /// `attachText` writes in stack memory first (`JSONWriter(scratch:)`) and moves to the heap
    /// when the text outgrows it: for texts around and far beyond that size, with escapes and
    /// non-ASCII text, the attached text equals the heap writer's serialisation.
    @Test func textsOfEverySizeAroundTheScratchMemory() {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["a", "é", "\"", "\\", "\n", "\u{01}", "xyz", "€", "🙂"]
        let limit = JSONObject.attachScratchBytes
        for target in [0, 1, limit - 40, limit - 9, limit - 3, limit, limit + 1, limit + 7, 2 * limit, 5 * limit] {
            for _ in 0..<20 {
                var o = JSONObject()
                var i = 0
                while JSON.object(o).serializedBytes.count < target {
                    var s = ""
                    for _ in 0..<Int.random(in: 0...12, using: &rng) { s += pieces.randomElement(using: &rng)! }
                    o["k\(i)"] = Bool.random(using: &rng) ? .string(s) : .int(Int64.random(in: -1_000_000...Int64.max / 2, using: &rng))
                    i += 1
                }
                let expected = JSON.object(o).serializedBytes
                #expect(attached(o).attachedText == expected)
            }
        }
    }

    @Test func equalityAndHashIgnoreTheText() {
        let o = attached(record)
        #expect(o == record)
        #expect(o.hashValue == record.hashValue)
        #expect(JSON.object(o) == JSON.object(record))
    }
}
