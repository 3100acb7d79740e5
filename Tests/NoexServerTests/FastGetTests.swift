import Foundation
import NoexJSON
import NoexStore
import Testing
@testable import NoexServer

/// The `store.get` fast path (ProtocolCore+FastGet.swift): which messages it takes, its exact
/// answers, and a randomized comparison with the general path over real sockets.
@Suite struct FastGetTests {
    /// A store whose contents and clock are the same in every server built from it, so two
    /// servers answer byte for byte alike.
    static func store() -> Store {
        let store = Store(name: "fast-get", nowMs: { 1_700_000_000_000 })
        let text: JSON = ["type": "string"]
        try! store.defineBucket("items", config: ["key": "sku", "schema": ["sku": text, "name": text, "qty": ["type": "number"]]])
        try! store.defineBucket("nums", config: ["key": "n", "schema": ["n": ["type": "number"], "v": text]])
        try! store.defineBucket("_drafts", config: ["key": "sku", "schema": ["sku": text, "v": ["type": "number"]]])
        for key in keys {
            _ = try! store.insert(bucket: "items", record: ["sku": .string(key), "name": "n \u{1F600} \"q\"", "qty": 3])
        }
        _ = try! store.insert(bucket: "nums", record: ["n": 5, "v": "five"])
        _ = try! store.insert(bucket: "_drafts", record: ["sku": "a", "v": 1])
        return store
    }

    /// Keys of the stored records: short (a small string), long (a heap string), unicode, an
    /// escape-worthy one, empty, and the request type's own spelling.
    static let keys = ["a", "b-1", "r1234567890-12-345678", String(repeating: "k", count: 300), "ключ",
                       "q\"uote", "", "store.get"]

    static func server(_ fast: Bool, _ configure: @escaping @Sendable (inout ServerConfig) -> Void = { _ in }) -> ServerThread {
        ServerThread(makeConfig: {
            var c = ServerConfig(store: FastGetTests.store())
            c.fastGetPath = fast
            configure(&c)
            return c
        })
    }

    // MARK: - Which messages the fast path reads

    /// What the fast path reads from `text`: id, bucket and key, or nil when it declines.
    static func scans(_ text: String) -> (id: Int64, bucket: String, key: String)? {
        Array(text.utf8).withUnsafeBytes { bytes in
            var get = FastGetRequest()
            guard get.scan(bytes) else { return nil }
            return (get.id, String(decoding: get.bucket, as: UTF8.self), String(decoding: get.key, as: UTF8.self))
        }
    }

    @Test func readsThePlainGetInAnyOrderAndSpacing() throws {
        for text in [#"{"id":7,"type":"store.get","bucket":"items","key":"a"}"#,
                     #" { "key" : "a" ,"bucket":"items", "type":"store.get","id":7 }"#,
                     "{\n\t\"type\":\"store.get\",\r\n\"id\":7,\"key\":\"a\",\"bucket\":\"items\"}"] {
            let get = try #require(Self.scans(text), "\(text)")
            #expect(get.id == 7)
            #expect(get.bucket == "items")
            #expect(get.key == "a")
        }
        #expect(Self.scans(#"{"id":-0,"type":"store.get","bucket":"b","key":""}"#)! == (0, "b", ""))
    }

    /// The pre-check before the scan finds `"store.get"` wherever it lies, after other dots
    /// too, and nothing that is not it.
    @Test func theTypeCheckFindsStoreGetAfterAnyDots() {
        func may(_ text: String) -> Bool { Array(text.utf8).withUnsafeBytes { ProtocolCore.mayBeStoreGet($0) } }
        for text in [#"{"id":7,"type":"store.get","bucket":"items","key":"a"}"#,
                     #"{"bucket":"a.b.c","key":"x.y","id":7,"type":"store.get"}"#,
                     #"."store.get""#, #""store.get""#, #"..."store.get".."#] {
            #expect(may(text), "\(text)")
        }
        for text in ["", ".", #""store.ge""#, #"store.get""#, #""store.get"#, #""store.gets""#,
                     #"{"id":7,"type":"store.insert","bucket":"items","data":{"n":1.5}}"#,
                     #"{"id":7,"type":"store\u002eget","bucket":"items","key":"a"}"#] {
            #expect(!may(text), "\(text)")
        }
        // Every message the scan reads passes the check first.
        var g = SeededRandom(seed: 11)
        for _ in 0..<2000 {
            let text = Self.message(&g)
            if Self.scans(text) != nil { #expect(may(text), "\(text)") }
        }
    }

    @Test func leavesEveryNearMissToTheGeneralPath() {
        let misses = [
            #"{"id":7,"type":"store.get","bucket":"items"}"#,  // no key
            #"{"id":7,"type":"store.get","key":"a"}"#,  // no bucket
            #"{"type":"store.get","bucket":"items","key":"a"}"#,  // no id
            #"{"id":7,"bucket":"items","key":"a"}"#,  // no type
            #"{"id":7,"type":"store.getx","bucket":"items","key":"a"}"#,
            #"{"id":7,"type":"store.insert","bucket":"items","key":"a"}"#,
            #"{"id":7,"type":"store.get","bucket":"items","key":"a","x":1}"#,  // extra member
            #"{"id":7,"type":"store.get","bucket":"items","key":"a","key":"b"}"#,  // duplicate
            #"{"id":7,"type":"store.get","bucket":"items","key":"\u0061"}"#,  // escape
            #"{"id":7,"type":"store.get","bucket":"it\u0065ms","key":"a"}"#,
            #"{"id":7,"type":"store.g\u0065t","bucket":"items","key":"a"}"#,
            #"{"id":7,"type":"store.get","bucket":"items","k\u0065y":"a"}"#,
            #"{"id":7,"type":"store.get","bucket":"items","key":"ключ"}"#,  // non-ASCII
            #"{"id":7,"type":"store.get","bucket":"items","key":5}"#,  // numeric key
            #"{"id":7,"type":"store.get","bucket":"items","key":null}"#,
            #"{"id":7,"type":"store.get","bucket":5,"key":"a"}"#,
            #"{"id":1.0,"type":"store.get","bucket":"items","key":"a"}"#,
            #"{"id":1e3,"type":"store.get","bucket":"items","key":"a"}"#,
            #"{"id":"x","type":"store.get","bucket":"items","key":"a"}"#,
            #"{"id":null,"type":"store.get","bucket":"items","key":"a"}"#,
            #"{"id":12345678901234567890,"type":"store.get","bucket":"items","key":"a"}"#,
            #"{"id":7,"type":"store.get","bucket":"items","key":"a"} x"#,
            #"[{"id":7,"type":"store.get","bucket":"items","key":"a"}]"#,
        ]
        for text in misses { #expect(Self.scans(text) == nil, "\(text)") }
        // Every cut of a valid message is declined too.
        let whole = Array(#"{"id":7,"type":"store.get","bucket":"items","key":"a"}"#.utf8)
        for n in 0..<whole.count {
            var get = FastGetRequest()
            #expect(!Array(whole[0..<n]).withUnsafeBytes { get.scan($0) }, "prefix \(n)")
        }
    }

    // MARK: - Exact answers

    @Test func answersWithTheRecordsTextAndNullForAMissingKey() throws {
        let server = Self.server(true)
        defer { server.stop() }
        let c = try WireStoreClient(server)
        #expect(c.sendRaw(#"{"id":7,"type":"store.get","bucket":"items","key":"a"}"#)
            == #"{"id":7,"type":"result","data":{"sku":"a","name":"n 😀 \"q\"","qty":3,"_version":1,"_createdAt":1700000000000,"_updatedAt":1700000000000}}"#)
        #expect(c.sendRaw(#"{"id":-3,"type":"store.get","bucket":"items","key":"zz"}"#) == #"{"id":-3,"type":"result","data":null}"#)
        #expect(c.sendRaw(#"{"id":8,"type":"store.get","bucket":"nope","key":"a"}"#)
            == #"{"id":8,"type":"error","code":"BUCKET_NOT_DEFINED","message":"Bucket \"nope\" is not defined"}"#)
        #expect(c.sendRaw(#"{"id":9,"type":"store.get","bucket":"_audit","key":"a"}"#)
            == #"{"id":9,"type":"error","code":"FORBIDDEN","message":"Cannot access system bucket \"_audit\" directly"}"#)
        // An update is seen by the next get (the text follows the record).
        _ = c.sendRaw(#"{"id":10,"type":"store.update","bucket":"items","key":"a","data":{"qty":4}}"#)
        let after = try #require(c.sendRaw(#"{"id":11,"type":"store.get","bucket":"items","key":"a"}"#))
        #expect(after.hasPrefix(#"{"id":11,"type":"result","data":{"sku":"a","name":"n 😀 \"q\"","qty":4,"_version":2,"#))
    }

    // MARK: - The same answers and counters as the general path

    /// One random message around the fast path's shape: valid gets and near misses of every
    /// kind it must leave to the general path.
    static func message(_ g: inout SeededRandom) -> String {
        func pick<T>(_ xs: [T]) -> T { xs[Int(g.next() % UInt64(xs.count))] }
        func ws() -> String { g.next() % 4 == 0 ? pick([" ", "\n", "\t ", "\r\n  "]) : "" }
        func str(_ s: String) -> String { JSON.string(s).jsonString }
        var members: [(String, String)] = []
        let id = pick(["1", "7", "-0", "0", "42", "1.0", "1e3", "-5", #""x""#, "null", "12345678901234567890", "999999999999999999"])
        if g.next() % 16 != 0 { members.append(("id", id)) }
        let type = pick(["store.get", "store.get", "store.get", "store.get", "store.gets", "store.all", "Store.get"])
        if g.next() % 16 != 0 { members.append(("type", str(type))) }
        let bucket = pick([str("items"), str("items"), str("items"), str("nums"), str("_drafts"), str("_audit"),
                           str("nope"), str(""), "5", "null", #""it\u0065ms""#])
        if g.next() % 16 != 0 { members.append(("bucket", bucket)) }
        let key = pick(keys.map(str) + keys.map(str) + [str("missing"), "5", "null", "true", #""\u0061""#, "{}", "[1]",
                                                           str(String(repeating: "x", count: 5000))])
        if g.next() % 16 != 0 { members.append(("key", key)) }
        if g.next() % 12 == 0 { members.append((pick(["x", "key", "id", "data"]), pick(["1", #""a""#, "null"]))) }
        for i in members.indices.reversed() where g.next() % 2 == 0 {
            members.swapAt(i, Int(g.next() % UInt64(i + 1)))
        }
        let body = members.map { "\(ws())\(str($0.0))\(ws()):\(ws())\($0.1)\(ws())" }.joined(separator: ",")
        return "\(ws()){\(body)}\(ws())"
    }

    /// The request and error counters of `/metrics`.
    static func counters(_ port: Int) -> [String] {
        guard let r = curl(port: port, "/metrics") else { return ["no /metrics answer"] }
        return r.body.split(separator: "\n").map(String.init).filter {
            $0.hasPrefix("noex_requests_total") || $0.hasPrefix("noex_request_errors_total") || $0.hasPrefix("noex_rate_limited_total")
        }
    }

    /// A rate-limited answer carries the time left in the window, which differs between two
    /// servers started at different moments: that number alone is blanked.
    static func comparable(_ answer: String?) -> String? {
        guard let answer, answer.contains("RATE_LIMITED") else { return answer }
        return answer.replacingOccurrences(of: #"[0-9]+"#, with: "N", options: .regularExpression)
    }

    static func compare(seed: UInt64, count: Int, _ configure: @escaping @Sendable (inout ServerConfig) -> Void = { _ in }) throws {
        let fast = Self.server(true, configure), general = Self.server(false, configure)
        defer { fast.stop(); general.stop() }
        let a = try WireStoreClient(fast), b = try WireStoreClient(general)
        var g = SeededRandom(seed: seed)
        for i in 0..<count {
            let text = message(&g)
            let fromFast = a.sendRaw(text), fromGeneral = b.sendRaw(text)
            #expect(fromFast != nil, "no answer to \(text)")
            #expect(comparable(fromFast) == comparable(fromGeneral), "message \(i): \(text)")
            if comparable(fromFast) != comparable(fromGeneral) { return }
        }
        let countersFast = counters(fast.port)
        #expect(countersFast.contains { $0.hasPrefix("noex_requests_total{op=\"store.get\"}") })
        #expect(countersFast == counters(general.port))
    }

    @Test func randomMessagesGetTheGeneralPathsAnswers() throws {
        try Self.compare(seed: 0x6E0E_5F, count: 1500)
    }

    @Test func withRateLimitingToo() throws {
        try Self.compare(seed: 0x17, count: 400) { $0.rateLimit = RateLimitConfig(maxRequests: 150, windowMs: 600_000) }
    }

    /// With durable storage every answer goes through the commit gate; a write between the
    /// reads (each server its own database) keeps a commit pending now and then.
    @Test func withDurableStorageToo() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let fastDB = dir.file("fast.db"), generalDB = dir.file("general.db")
        let fast = Self.server(true) { $0.persistence = PersistenceOptions(path: fastDB, fsync: .no) }
        let general = Self.server(false) { $0.persistence = PersistenceOptions(path: generalDB, fsync: .no) }
        defer { fast.stop(); general.stop() }
        #expect(fast.startError == nil && general.startError == nil)
        let a = try WireStoreClient(fast), b = try WireStoreClient(general)
        var g = SeededRandom(seed: 0xD0)
        for i in 0..<300 {
            var text = Self.message(&g)
            if i % 7 == 0 { text = #"{"id":5,"type":"store.update","bucket":"items","key":"a","data":{"qty":\#(i)}}"# }
            let fromFast = a.sendRaw(text), fromGeneral = b.sendRaw(text)
            #expect(fromFast != nil, "no answer to \(text)")
            #expect(fromFast == fromGeneral, "message \(i): \(text)")
        }
    }

    @Test func withAuthToo() throws {
        try Self.compare(seed: 0x2A, count: 400) { $0.auth = fixtureAuth(required: false) }
        try Self.compare(seed: 0x2B, count: 200) { $0.auth = fixtureAuth(required: true) }
    }
}
