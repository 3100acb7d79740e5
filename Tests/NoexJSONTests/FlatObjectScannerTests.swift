import Foundation
import Testing
@testable import NoexJSON

/// The flat-object scanner must answer exactly what the parser answers, or not at all: for any
/// input, a non-nil scan equals `JSON.parse`'s value member for member (number kinds, key
/// order, bit patterns), and every input the parser rejects the scanner leaves alone.
@Suite struct FlatObjectScannerTests {
    static func scan(_ bytes: [UInt8]) -> JSONObject? { bytes.withUnsafeBytes { JSON.scanFlatObject($0) } }

    /// Fails the test when the scanner answered something the parser would not. Returns whether
    /// the scanner answered.
    @discardableResult
    static func check(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let text = String(decoding: bytes.prefix(300), as: UTF8.self)
        // The member-by-member form reads exactly what the tree form reads, in the same order.
        var streamed: [(key: String, value: JSON)] = []
        let complete = bytes.withUnsafeBytes { JSON.scanFlatObject($0) { streamed.append((JSON.objectKey($0), $1)) } }
        let tree = scan(bytes)
        #expect(complete == (tree != nil), "the two forms disagree on \(text)", sourceLocation: sourceLocation)
        if complete, let tree {
            #expect(streamed.map(\.key) == tree.keys && zip(streamed.map(\.value), tree.values).allSatisfy { $0.isIdentical(to: $1) },
                    "the two forms read different members from \(text)", sourceLocation: sourceLocation)
        }
        guard let scanned = tree else { return false }
        guard let parsed = try? JSON.parse(bytes) else {
            Issue.record("scanner accepted what the parser rejects: \(text)", sourceLocation: sourceLocation)
            return true
        }
        #expect(JSON.object(scanned).isIdentical(to: parsed), "scanner and parser differ on \(text)", sourceLocation: sourceLocation)
        return true
    }

    @Test(arguments: [
        #"{"id":1,"type":"store.get","bucket":"bench","key":"k-1"}"#,
        #"{"id":2,"type":"store.insert","bucket":"bench","data":{"id":"a","n":3,"tags":["x"],"o":{"p":1.5}}}"#,
        #" { "type" : "store.delete" , "id" : -7 ,"bucket":"users","key":12,"expectedVersion":null } "#,
        "{\n\t\"id\":0,\r\n\"type\":\"pong\",\"timestamp\":1700000000000}\n",
        #"{"id":3,"type":"auth.login","token":"a-long-token-value-beyond-fifteen-bytes","flag":true,"off":false}"#,
        #"{"id":-0,"type":"x","":"empty key","n":999999999999999999,"m":-999999999999999999}"#,
        #"{"id":4,"type":"store.insert","bucket":"b","data":{"id":"x","n":-12,"ok":true,"v":null,"s":"t"}}"#,
        #"{"id":5,"type":"store.insert","bucket":"b","data":{"a":1,"a":2,"1":3}}"#,  // the parser reads `data`
        #"{}"#,
        #"{"data":{}}"#,
    ])
    func readsTheUsualRequestShapes(_ text: String) {
        #expect(Self.check(Array(text.utf8)), "the scanner should read \(text)")
    }

    @Test(arguments: [
        #"{"id":1,"type":"store.get","bucket":"b","key":"a\"b"}"#,             // escape in a value
        #"{"i\u0064":1,"type":"store.get"}"#,                                   // escape in a key
        #"{"id":1,"type":"a","id":2}"#,                                         // duplicate key
        #"{"id":1,"type":"a","1":2}"#,                                          // array-index key
        #"{"id":1e2,"type":"a"}"#, #"{"id":1E2,"type":"a"}"#, #"{"id":1.0,"type":"a"}"#,
        #"{"id":-0.0,"type":"a"}"#, #"{"id":1234567890123456789,"type":"a"}"#,  // 19 digits
        #"{"id":01,"type":"a"}"#, #"{"id":-,"type":"a"}"#, #"{"id":- 1,"type":"a"}"#,
        #"{"id":1,"type":"a","ops":[1]}"#,                                      // array
        #"{"id":1,"type":"a","data":{},"more":{}}"#,                            // second object
        #"{"id":1,"type":"café"}"#,                                             // non-ASCII
        "\u{FEFF}{\"id\":1,\"type\":\"a\"}",                                    // byte order mark
        #"{"id":1,"type":"a"} x"#, #"{"id":1,"type":"a"}{}"#, #"{"id":1,"type":"a",}"#,
        #"{"id":1,"type":"a""#, #"{"id":1 "type":"a"}"#, #"{"id" 1}"#, #"{id:1}"#,
        #"{"id":tru,"type":"a"}"#, #"{"id":nul}"#, #"{"data":{"a":}}"#, #"[1]"#, #""s""#, "",
        "{\"id\":1,\"type\":\"a\tb\"}",                                         // control byte
    ])
    func leavesEverythingElseToTheParser(_ text: String) {
        #expect(Self.scan(Array(text.utf8)) == nil, "the scanner should not read \(text)")
    }

    @Test func leavesLargeInputsToTheParser() {
        let many = "{" + (0..<17).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
        #expect(Self.scan(Array(many.utf8)) == nil)
        let sixteen = "{" + (0..<16).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
        #expect(Self.check(Array(sixteen.utf8)))
        let long = #"{"id":1,"type":"a","s":""# + String(repeating: "x", count: 4096) + #""}"#
        #expect(Self.scan(Array(long.utf8)) == nil)
    }

    /// The nested object is parsed to the same depth limit as a full parse.
    @Test func nestedDepthLimitIsTheParsers() {
        // `{"data":{"a":{"a":…{}…}}}` nested `depth` levels deep, the top-level object included.
        func nested(_ depth: Int) -> [UInt8] {
            Array((#"{"data":"# + String(repeating: #"{"a":"#, count: depth - 2) + "{}" + String(repeating: "}", count: depth - 1)).utf8)
        }
        let limit = JSONLimits.default.maxDepth
        #expect(Self.check(nested(limit)))
        #expect(Self.scan(nested(limit + 1)) == nil)
        #expect(parseError(nested(limit + 1))?.kind == .depthLimitExceeded)
    }

    /// Every file of the fuzz seed corpora (JSON texts and request lines), every prefix of it
    /// and every one-byte change of its first bytes.
    @Test func agreesWithTheParserOnTheSeedCorpora() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fuzz/corpus")
        var inputs: [[UInt8]] = []
        for dir in ["json", "request"] {
            let folder = root.appendingPathComponent(dir)
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() {
                let bytes = Array(try Data(contentsOf: folder.appendingPathComponent(name)))
                if dir == "json" { inputs.append(bytes); continue }
                for line in bytes.split(separator: 10) {
                    // Request lines: `0…`–`2…` carry a message on a connection, other lines are messages.
                    inputs.append(Array(line.first.map { $0 >= 48 && $0 <= 50 } == true ? line.dropFirst() : line))
                }
            }
        }
        var scanned = 0
        var rng = SeededRandom(seed: 13)
        for input in inputs {
            if Self.check(input) { scanned += 1 }
            for n in 0..<input.count { Self.check(Array(input.prefix(n))) }
            for _ in 0..<min(input.count, 40) {
                var changed = input
                changed[Int.random(in: 0..<input.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                Self.check(changed)
            }
        }
        #expect(inputs.count > 50)
        #expect(scanned > 20, "the scanner read only \(scanned) of \(inputs.count) seeds")
    }

    /// Random requests from parts that sit on both sides of every line the scanner draws:
    /// reordered and duplicate keys, escapes, whitespace, unicode, big numbers, -0, 1e2,
    /// nesting, missing and extra members.
    @Test func agreesWithTheParserOnRandomRequests() {
        let keys = [#""id""#, #""type""#, #""bucket""#, #""key""#, #""data""#, #""name""#, #""expectedVersion""#,
                    #""""#, #""a\u0062""#, #""1""#, #""01""#, #""é""#, #""subscriptionId""#, #""a-long-key-over-fifteen""#]
        let values = [#""store.get""#, #""store.insert""#, #""pong""#, #""""#, #""a\"b""#, #""\u00e9""#, #""é""#,
                      "0", "-0", "1", "-1", "1e2", "1E+2", "-1.5", "0.0", "-0.0", "007", "1.", ".5",
                      "999999999999999999", "-999999999999999999", "1234567890123456789", "9223372036854775807",
                      "-9223372036854775808", "92233720368547758070", "true", "false", "null", "nul",
                      "{}", #"{"id":"a","n":1}"#, #"{"a":{"b":[1,2,{"c":null}]}}"#, "[]", "[1,2]", #"{"a":1,"a":2}"#,
                      #"{"1":1,"0":0}"#, "{", "]"]
        let spaces = ["", "", "", " ", "\n", "\t", "\r\n ", "\u{0B}"]
        var rng = SeededRandom(seed: 2026)
        var scanned = 0
        let rounds = 20_000
        for _ in 0..<rounds {
            var text = spaces.randomElement(using: &rng)! + "{"
            let n = Int.random(in: 0...6, using: &rng)
            for i in 0..<n {
                if i > 0 { text += spaces.randomElement(using: &rng)! + "," }
                text += spaces.randomElement(using: &rng)! + keys.randomElement(using: &rng)! + spaces.randomElement(using: &rng)!
                text += ":" + spaces.randomElement(using: &rng)! + values.randomElement(using: &rng)!
            }
            text += spaces.randomElement(using: &rng)! + "}" + spaces.randomElement(using: &rng)!
            var bytes = Array(text.utf8)
            if Int.random(in: 0..<8, using: &rng) == 0, !bytes.isEmpty {
                bytes.remove(at: Int.random(in: 0..<bytes.count, using: &rng))
            }
            if Self.check(bytes) { scanned += 1 }
        }
        #expect(scanned > rounds / 20, "the scanner read only \(scanned) of \(rounds)")
    }

    /// A sink that takes string members as bytes and declines after `limit` members.
    struct DecliningSink: FlatMemberSink {
        let limit: Int
        var seen: [String] = []
        var strings: [String] = []
        var declined: Bool { seen.count >= limit }

        mutating func member(key: UnsafeBufferPointer<UInt8>, value: consuming JSON) { seen.append(JSON.objectKey(key)) }

        mutating func member(key: UnsafeBufferPointer<UInt8>, string contents: UnsafeBufferPointer<UInt8>) {
            seen.append(JSON.objectKey(key))
            strings.append(String(decoding: contents, as: UTF8.self))
        }
    }

    @Test func aSinkThatDeclinesStopsTheScanAndStringsComeAsBytes() {
        let text = Array(#"{"a":"x","b":1,"c":"y z","d":null}"#.utf8)
        for limit in 1...5 {
            var sink = DecliningSink(limit: limit)
            let complete = text.withUnsafeBytes { JSON.scanFlatObject($0, into: &sink) }
            #expect(complete == (limit > 4), "limit \(limit)")
            #expect(sink.seen == Array(["a", "b", "c", "d"].prefix(limit)))
            #expect(sink.strings == Array(["x", "y z"].prefix(limit >= 3 ? 2 : 1)))
        }
        // The default string hand-off makes the parser's `String`, as the tree form shows.
        #expect(Self.scan(text) == ["a": "x", "b": 1, "c": "y z", "d": .null])
    }
}
