import Testing
@testable import NoexJSON

/// `JSONObject.appending(keys:values:)` must leave an object exactly as setting each member
/// through the subscript in turn would: same members, same order, same text.
@Suite struct AppendingTests {
    static func sequential(_ base: JSONObject, _ keys: [String], _ values: [JSON]) -> JSONObject {
        var o = base
        for i in keys.indices { o[keys[i]] = values[i] }
        return o
    }

    static func expectSame(_ base: JSONObject, _ keys: [String], _ values: [JSON]) {
        let fast = base.appending(keys: keys, values: values)
        let slow = sequential(base, keys, values)
        #expect(fast.keys == slow.keys, "base \(base.keys) + \(keys)")
        #expect(fast == slow)
        #expect(fast.serializedBytes == slow.serializedBytes)
        #expect(fast.attachedText == nil)
    }

    @Test func metadataOnARecord() {
        let data: JSONObject = ["id": "r1", "n": 5]
        let out = data.appending(keys: ["_version", "_createdAt", "_updatedAt"], values: [1, 1_700_000_000_000, 1_700_000_000_000])
        #expect(out.jsonString == #"{"id":"r1","n":5,"_version":1,"_createdAt":1700000000000,"_updatedAt":1700000000000}"#)
        #expect(data.keys == ["id", "n"])  // the original is unchanged
    }

    @Test func keysAlreadyPresentKeepTheirPlace() {
        let data: JSONObject = ["_version": 9, "id": "r1", "_x": true]
        let out = data.appending(keys: ["_version", "_createdAt"], values: [1, 2])
        #expect(out.jsonString == #"{"_version":1,"id":"r1","_x":true,"_createdAt":2}"#)
    }

    @Test(arguments: [
        (["a": 1] as JSONObject, ["7", "b", "0"], [2, 3, 4] as [JSON]),  // index keys take their numeric place
        (["3": 1, "a": 2] as JSONObject, ["3", "10", "a", "b"], [5, 6, 7, 8] as [JSON]),
        (JSONObject(), ["x", "x", "y"], [1, 2, 3] as [JSON]),  // a repeated key: the last value, first place
        (["": 1] as JSONObject, ["", "é", "e"], [2, 3, 4] as [JSON]),  // empty and non-ASCII keys
        (["ab": 1, "ac": 2] as JSONObject, ["ad", "ab", "a"], [3, 4, 5] as [JSON]),  // shared first bytes
        (["a": 1] as JSONObject, [], [] as [JSON]),
    ])
    func sameAsSettingOneByOne(_ base: JSONObject, _ keys: [String], _ values: [JSON]) {
        Self.expectSame(base, keys, values)
    }

    /// Random bases and key lists over a small alphabet, so present, repeated and index keys
    /// are common; and an object past the small-object size (hashed storage).
    @Test func randomListsMatchSequentialSets() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = ["a", "b", "ab", "_v", "_c", "0", "1", "10", "01", "", "é", "z"]
        for _ in 0..<2000 {
            var base = JSONObject()
            for _ in 0..<Int.random(in: 0..<20, using: &rng) {
                base[alphabet.randomElement(using: &rng)! + String(Int.random(in: 0..<3, using: &rng))] = .int(1)
            }
            let n = Int.random(in: 0..<8, using: &rng)
            let keys = (0..<n).map { _ in alphabet.randomElement(using: &rng)! }
            let values = (0..<n).map { JSON.int(Int64($0) + 100) }
            Self.expectSame(base, keys, values)
        }
        let many = (0..<70).map { "k\($0)" }
        Self.expectSame(["k3": 1], many, many.indices.map { JSON.int(Int64($0)) })  // more than 64 keys
    }
}
