import Foundation
import NoexJSON
import Testing
@testable import NoexPersistence
@testable import NoexServer

/// The sqlite engine finds a record's row by the key's JSON text. Plain string keys are put
/// together without the serializer (`SQLiteRecordLog.serializeKey`); the text must be the
/// serializer's byte for byte, or rows written before would no longer be found.
@Suite struct DurableKeyTextTests {
    static let keys: [JSON] = [
        "", "a", "plain-key_1", "quote\"d", "back\\slash", "tab\there", "nl\n", "\u{01}", "\u{7f}", "é✓😀",
        "/slash", "x\u{2028}y", .string(String(repeating: "long", count: 600)), 0, -7, 1.5, 1e21, true, .null,
    ]

    @Test func keyTextIsTheSerializersText() {
        var buffer: [UInt8] = []
        for key in Self.keys {
            buffer.removeAll()
            SQLiteRecordLog.serializeKey(key, into: &buffer)
            #expect(buffer == key.serializedBytes, "key \(key)")
        }
    }

    /// The escape check reads eight bytes at a time: each byte the serializer escapes, and
    /// the bytes around the ones it escapes, at every position of keys up to 40 bytes long
    /// (inside a word, at its edges, in the tail), with multi-byte characters beside them.
    @Test func escapedBytesAreFoundAtEveryPosition() {
        var buffer: [UInt8] = []
        for length in 1...40 {
            for position in 0..<length {
                for special: Character in ["\"", "\\", "\u{00}", "\u{1f}", "\n", " ", "!", "#", "[", "]", "\u{7f}", "é"] {
                    var chars = Array(repeating: Character("k"), count: length)
                    chars[position] = special
                    let key = JSON.string(String(chars))
                    buffer.removeAll()
                    SQLiteRecordLog.serializeKey(key, into: &buffer)
                    #expect(buffer == key.serializedBytes, "key \(key)")
                }
            }
        }
    }

    /// Over the wire: string keys of every kind are inserted, updated and deleted, then the
    /// server restarts on the database and answers the same records.
    @Test func oddStringKeysAreUpdatedAndDeletedInTheDatabase() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        let stringKeys = Self.keys.filter { $0.stringValue != nil }
        let all: JSONObject = ["id": 1, "type": "store.all", "bucket": "posts"]
        var before: String?
        do {
            let server = durableServer(db)
            #expect(server.startError == nil)
            let c = try WireStoreClient(server)
            #expect(c.ask(["type": "store.defineBucket", "name": "posts", "config": [
                "key": "id", "schema": ["id": ["type": "string", "required": true], "v": ["type": "number"]],
            ]])["type"] == "result")
            for key in stringKeys {
                #expect(c.ask(["type": "store.insert", "bucket": "posts", "data": ["id": key, "v": 1]])["type"] == "result")
            }
            for (i, key) in stringKeys.enumerated() {
                if i % 2 == 0 {
                    #expect(c.ask(["type": "store.update", "bucket": "posts", "key": key, "data": ["v": 2]])["type"] == "result")
                } else {
                    #expect(c.ask(["type": "store.delete", "bucket": "posts", "key": key])["type"] == "result")
                }
            }
            before = c.askRaw(all)
            server.stop()
        }
        let server = durableServer(db)
        defer { server.stop() }
        #expect(server.startError == nil)
        let c = try WireStoreClient(server)
        #expect(c.askRaw(all) == before)
        let records = c.data(["type": "store.all", "bucket": "posts"]).arrayValue ?? []
        #expect(records.map { $0["id"]! } == stringKeys.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
        #expect(records.allSatisfy { $0["v"] == 2 && $0["_version"] == 2 })
    }
}
