import NoexJSON
import Testing

@testable import NoexStore

/// `Store.recordText(bucket:asciiKey:)`, the read by bytes behind the server's `store.get`
/// fast path: its hash must be exactly `SlotIndex.hash(.string(s))`, and its answers those of
/// `get(bucket:key:)`.
@Suite struct TextReadTests {
    /// ASCII strings made every way a stored key's `String` can come about.
    static func variants(_ s: String) -> [String] {
        let half = s.utf8.count / 2
        let i = s.index(s.startIndex, offsetBy: half)
        return [s, String(decoding: Array(s.utf8), as: UTF8.self), String(s[..<i]) + String(s[i...]),
                "\(s[..<i])\(s[i...])", String(Substring(s)), JSON.string(s).stringValue!,
                (try! JSON.parse(JSON.string(s).jsonString)).stringValue!]
    }

    @Test func theHashFromBytesIsTheStringKeysHash() {
        var g = SeededRandom(seed: 13)
        for n in 0..<3000 {
            let length = n < 200 ? n : Int(g.next() % 600)
            let text = String(decoding: (0..<length).map { _ in UInt8(0x20 + g.next() % 0x5F) }, as: UTF8.self)
            for s in Self.variants(text) {
                let fromBytes = Array(s.utf8).withUnsafeBufferPointer { SlotIndex.asciiStringHash($0) }
                #expect(fromBytes == SlotIndex.hash(.string(s)), "\(s.debugDescription)")
            }
        }
    }

    @Test func answersAsGetDoes() throws {
        let store = Store(nowMs: { 1000 })
        let schema: JSON = ["k": ["type": "string"], "n": ["type": "number"]]
        try store.defineBucket("b", config: ["key": "k", "schema": schema])
        try store.defineBucket("c", config: ["key": "k", "schema": schema])
        var g = SeededRandom(seed: 5)
        var keys: [String] = ["", "a", "store.get", String(repeating: "z", count: 40)]
        for n in 0..<300 { keys.append("key-\(n)-\(g.next() % 1000)") }
        for k in keys where g.next() % 3 != 0 {
            _ = try store.insert(bucket: g.next() % 2 == 0 ? "b" : "c", record: ["k": .string(k), "n": .int(Int64(k.utf8.count))])
        }
        for k in keys {
            for bucket in ["b", "c", "nope", "b"] {
                let read = Array(bucket.utf8).withUnsafeBufferPointer { b in
                    Array(k.utf8).withUnsafeBufferPointer { store.recordText(bucket: b, asciiKey: $0) }
                }
                switch read {
                case .noBucket: #expect(bucket == "nope")
                case .noRecord: #expect(try store.get(bucket: bucket, key: .string(k)) == nil)
                case .text(let text):
                    let record = try #require(try store.get(bucket: bucket, key: .string(k)))
                    #expect(text == JSON.object(record).serializedBytes)
                }
            }
        }
    }
}
