import NoexJSON
import Testing
@testable import NoexServer

/// A request's members are read without a `JSONObject` tree (`RequestMembers`): the scanner's
/// path and the parser's path must give the members the parser's object has, member for
/// member and in the same order, and every reader (a slot, the name subscript, the rebuilt
/// object) must answer what that object answers. The frames are random requests built from
/// parts on both sides of every line the scanner draws (escaped and repeated keys, non-string
/// members, nested objects, many members).
@Suite struct RequestMembersTests {
    /// Whether `members` answers every read as `object` does: each slot, each key by name, a
    /// few absent names, the count and the rebuilt object (key order included).
    static func readsAsObject(_ members: RequestMembers, _ object: JSONObject) -> Bool {
        guard members.count == object.count, JSON.object(members.object).isIdentical(to: .object(object)) else { return false }
        for slot in RequestMembers.Slot.allCases {
            guard same(members[slot], object[slot.name]), same(members[slot.name], object[slot.name]) else { return false }
        }
        for (k, v) in object where !same(members[k], v) { return false }
        for absent in ["", "bucke", "buckets", "Bucket", "nameX", "a-long-key-over-fifteen-bytes"] where object[absent] == nil {
            guard members[absent] == nil else { return false }
        }
        return true
    }

    static func same(_ a: JSON?, _ b: JSON?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case (let x?, let y?): x.isIdentical(to: y)
        default: false
        }
    }

    @Test func randomRequestsReadAsTheParsersObject() {
        let keys = [#""id""#, #""type""#, #""bucket""#, #""key""#, #""data""#, #""filter""#, #""name""#, #""query""#,
                    #""buck\u0065t""#, #""k\u0065y""#, #""\u0069d""#, #""typ\u0065""#, #""bucket ""#, #""Bucket""#,
                    #""1""#, #""0""#, #""""#, #""é""#, #""timestamp""#, #""a-long-key-over-fifteen-bytes""#]
        let values = [#""store.get""#, #""store.where""#, #""pong""#, #""_audit""#, #""""#, #""a\"b""#, #""\u005faudit""#,
                      "0", "-0", "1", "1.0", "1e2", "-7", "999999999999999999", "true", "false", "null",
                      "{}", #"{"id":"a","n":1}"#, #"{"a":{"b":[1]}}"#, "[]", #"["_audit"]"#, #"{"a":1,"a":2}"#]
        var rng = FuzzRNG(seed: 13)
        var scanned = 0
        var requests = 0
        let rounds = 20_000
        for _ in 0..<rounds {
            let n = Int.random(in: 0...18, using: &rng)
            let members = (0..<n).map { _ in keys.randomElement(using: &rng)! + ":" + values.randomElement(using: &rng)! }
            let bytes = Array(("{" + members.joined(separator: ",") + "}").utf8)
            guard case .object(let parsed)? = try? JSON.parse(bytes) else { continue }
            #expect(Self.readsAsObject(RequestMembers(parsed), parsed), "parsed: \(String(decoding: bytes, as: UTF8.self))")
            var direct = RequestMembers()
            if bytes.withUnsafeBytes({ direct.scan($0) }) {
                scanned += 1
                #expect(Self.readsAsObject(direct, parsed), "scanned: \(String(decoding: bytes, as: UTF8.self))")
            }
            let (a, b) = (Envelope.classify(bytes: bytes), Envelope.classify(.object(parsed)))
            if case .request = a { requests += 1 }
            #expect(EnvelopeScanTests.same(a, b), "\(String(decoding: bytes, as: UTF8.self))\nbytes: \(a)\nparser: \(b)")
        }
        // Both paths must be exercised, and requests must get past the envelope.
        #expect(scanned > rounds / 20, "the scanner read only \(scanned) of \(rounds)")
        #expect(requests > rounds / 50, "only \(requests) requests of \(rounds)")
    }

    /// Requests the server builds itself (cluster entries, procedure steps) carry whatever
    /// object they were given, with or without `id`/`type` members.
    @Test func aGivenObjectIsKeptAsItIs() {
        let objects: [JSONObject] = [
            [:], ["bucket": "b"], ["type": "x", "bucket": "b", "key": 1, "extra": true, "data": ["a": 1], "filter": .null],
            ["z": 1, "2": 2, "id": "not a number", "10": 3, "key": ["nested"]],
        ]
        for object in objects {
            let r = Request(id: .null, type: "store.get", fields: object)
            #expect(Self.readsAsObject(r.members, object), "\(JSON.object(object).jsonString)")
            #expect(JSON.object(r.fields).isIdentical(to: .object(object)))
            #expect(r.operation == .storeGet)
        }
    }

    /// `takeObject` (what `store.insert` uses to hand `data` to the store without a copy):
    /// the same object and the same error as `object(_:)`, the member gone after a success
    /// and still there after an error, every other member unchanged.
    @Test func takingDataIsReadingItThenDroppingIt() {
        let frames = [
            #"{"id":1,"type":"store.insert","bucket":"b","data":{"id":"x","n":2}}"#,
            #"{"data":{"a":[1,{"b":2}]},"type":"store.insert","id":2,"bucket":"b","extra":1}"#,
            #"{"id":3,"type":"store.insert","bucket":"b","data":"not an object"}"#,
            #"{"id":4,"type":"store.insert","bucket":"b","data":null}"#,
            #"{"id":5,"type":"store.insert","bucket":"b"}"#,
            #"{"id":6,"type":"store.insert","bucket":"b","dat\u0061":{"escaped":"key"}}"#,
        ]
        for frame in frames {
            guard case .request(var r) = Envelope.classify(bytes: Array(frame.utf8)) else {
                Issue.record("not a request: \(frame)")
                continue
            }
            let before = r.fields
            let read = Result { () throws(ServerError) in try r.object("data") }
            let taken = Result { () throws(ServerError) in try r.takeObject(.data) }
            switch (read, taken) {
            case (.success(let a), .success(let b)):
                #expect(JSON.object(a).isIdentical(to: .object(b)), "\(frame)")
                var rest = before
                rest["data"] = nil
                #expect(JSON.object(r.fields).isIdentical(to: .object(rest)), "\(frame)")
                #expect(r["data"] == nil)
            case (.failure(let a), .failure(let b)):
                #expect(a.code == b.code && a.message == b.message, "\(frame)")
                #expect(JSON.object(r.fields).isIdentical(to: .object(before)), "\(frame)")
            default:
                Issue.record("object and takeObject disagree on \(frame)")
            }
        }
    }

    /// The operation enum names the metrics table's slots, in its order.
    @Test func operationsAreTheTablesSlots() {
        #expect(RequestOperation.allCases.count == OperationTable.names.count)
        for op in RequestOperation.allCases {
            let name = OperationTable.names[op.rawValue]
            #expect("\(op)".lowercased() == name.replacingOccurrences(of: ".", with: "").lowercased(), "\(op) vs \(name)")
            if op.rawValue < OperationTable.other { #expect(RequestOperation(type: name) == op) }
            #expect(op.isStore == name.hasPrefix("store."), "\(name)")
        }
        for unknown in ["store.gett", "identity.login", "procedures.call", "audit.query", "other", "invalid", ""] {
            #expect(RequestOperation(type: unknown) == .other, "\(unknown)")
        }
    }
}
