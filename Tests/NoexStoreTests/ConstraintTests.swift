import NoexJSON
import Testing

@testable import NoexStore

@Suite struct ConstraintTests {
    func issues(_ field: JSON, _ value: JSON?) throws -> [ValidationIssue] {
        let store = makeStore()
        try store.defineBucket("b", config: ["key": "id", "schema": ["id": ["type": "string", "generated": "uuid"], "f": field]])
        var rec = JSONObject()
        if let value { rec["f"] = value }
        guard case .validation(_, let list)? = catchError({ _ = try store.insert(bucket: "b", record: rec) }) else { return [] }
        return list
    }

    func codes(_ field: JSON, _ value: JSON?) throws -> [String] { try issues(field, value).map(\.code) }

    @Test func types() throws {
        #expect(try codes(["type": "string"], 1) == ["type"])
        #expect(try issues(["type": "string"], 1).first?.message == "Expected type \"string\", got number")
        #expect(try issues(["type": "number"], "1").first?.message == "Expected type \"number\", got string")
        #expect(try issues(["type": "object"], []).first?.message == "Expected type \"object\", got array")
        #expect(try issues(["type": "array"], ["a": 1]).first?.message == "Expected type \"array\", got object")
        #expect(try issues(["type": "boolean"], 0).first?.message == "Expected type \"boolean\", got number")
        #expect(try codes(["type": "number"], 1.5) == [])
        #expect(try codes(["type": "boolean"], false) == [])
        #expect(try codes(["type": "object"], ["a": 1]) == [])
        #expect(try codes(["type": "array"], [1]) == [])
        #expect(try codes(["type": "date"], "whatever") == [])
        #expect(try codes(["type": "date"], 0) == [])
        #expect(try codes(["type": "date"], ["a": 1]) == ["type"])
        #expect(try codes(["type": "mystery"], 1) == [])  // unknown types are accepted
        // null and missing are fine unless required
        #expect(try codes(["type": "string"], .null) == [])
        #expect(try codes(["type": "string"], nil) == [])
        #expect(try codes(["type": "string", "required": true], .null) == ["required"])
        #expect(try codes(["type": "string", "required": true], "") == [])
        // a type failure stops the other checks of that field
        #expect(try codes(["type": "string", "minLength": 3, "enum": ["x"]], 5) == ["type"])
    }

    @Test func enums() throws {
        #expect(try codes(["type": "string", "enum": ["a", "b"]], "a") == [])
        #expect(try issues(["type": "string", "enum": ["a", "b", "c"]], "z").first
            == ValidationIssue(field: "f", message: "Value must be one of: a, b, c", code: "enum"))
        #expect(try codes(["type": "number", "enum": [1, 2]], 2.0) == [])
        #expect(try codes(["enum": [1, 2]], "1") == ["enum"])
        #expect(try codes(["enum": [["a": 1]]], ["a": 1]) == ["enum"])  // objects never equal
    }

    @Test func numbersAndLengths() throws {
        #expect(try codes(["type": "number", "min": 1, "max": 10], 1) == [])
        #expect(try codes(["type": "number", "min": 1, "max": 10], 10) == [])
        #expect(try issues(["type": "number", "min": 1.5], 1).first?.message == "Minimum value is 1.5")
        #expect(try issues(["type": "number", "max": 10], 11).first?.message == "Maximum value is 10")
        #expect(try codes(["type": "string", "min": 1], "0") == [])  // min/max only for numbers
        #expect(try codes(["type": "string", "minLength": 2, "maxLength": 3], "ab") == [])
        #expect(try issues(["type": "string", "minLength": 2], "a").first?.message == "Minimum length is 2")
        #expect(try issues(["type": "string", "maxLength": 3], "abcd").first?.message == "Maximum length is 3")
        // UTF-16 code units: one emoji is 2 units, "é" precomposed is 1
        #expect(try codes(["type": "string", "maxLength": 1], "😀") == ["maxLength"])
        #expect(try codes(["type": "string", "minLength": 2], "😀") == [])
        #expect(try codes(["type": "string", "maxLength": 1], "\u{E9}") == [])
        // several issues of one field are all collected
        #expect(try codes(["type": "string", "maxLength": 2, "pattern": "^a", "format": "email"], "xyz") == ["maxLength", "pattern", "format"])
    }

    @Test func patterns() throws {
        #expect(try codes(["type": "string", "pattern": "^[A-Z]{3}-\\d+$"], "ABC-12") == [])
        #expect(try issues(["type": "string", "pattern": "^[A-Z]{3}-\\d+$"], "AB-12").first
            == ValidationIssue(field: "f", message: "Value must match pattern \"^[A-Z]{3}-\\d+$\"", code: "pattern"))
        #expect(try codes(["type": "string", "pattern": "b"], "abc") == [])  // unanchored
        #expect(try codes(["type": "string", "pattern": "\\d"], "٣") == ["pattern"])  // \d is ASCII only
        #expect(try codes(["type": "string", "pattern": "^abc$"], "abc\n") == ["pattern"])  // `$` is end of input
        #expect(try codes(["type": "string", "pattern": "^a.c$"], "a\nc") == ["pattern"])  // `.` excludes newlines
        #expect(try codes(["type": "string", "pattern": "\\bcat\\b"], "a cat!") == [])
        #expect(try codes(["type": "string", "pattern": "^\\w+$"], "héllo") == ["pattern"])  // \w is ASCII only
        #expect(try codes(["type": "string", "pattern": "^e\u{301}$"], "e\u{301}") == [])  // scalar semantics
        let store = makeStore()
        let err = catchError { try store.defineBucket("b", config: ["key": "id", "schema": ["id": ["type": "string"], "f": ["type": "string", "pattern": "(["]]]) }
        #expect(err?.code == "INTERNAL_ERROR")
        #expect(!store.hasBucket("b"))
    }

    @Test func emailFormat() {
        for ok in ["a@b.c", "test.name+tag@domain.co.uk"] { #expect(FormatValidators.isEmail(ok), "\(ok)") }
        for bad in ["", "plaintext", "@missing-local.com", "missing-at.com", "user@ space.com", "user @domain.com", "a@b.", "a@.b", "a@@b.c"] {
            #expect(!FormatValidators.isEmail(bad), "\(bad)")
        }
    }

    @Test func urlFormat() {
        for ok in ["https://example.com", "http://localhost:3000/path?q=1", "ftp://files.example.com/doc.pdf", "a:b", "mailto:x", "file:///tmp/x", "http://[::1]:80/"] {
            #expect(FormatValidators.isURL(ok), "\(ok)")
        }
        for bad in ["", "not-a-url", "example.com", "://missing-scheme", "http://", "https://exa mple.com", "http://host:99999"] {
            #expect(!FormatValidators.isURL(bad), "\(bad)")
        }
    }

    @Test func isoDateFormat() {
        for ok in ["2024-01-15", "2024-12-31T23:59:59Z", "2024-06-15T10:30:00.000Z", "2024-06-15T10:30:00+02:00", "2024-06-15T10:30:00-05:00", "2024-02-29", "2024-06-15T01:30:00+02:00"] {
            #expect(FormatValidators.isISODate(ok), "\(ok)")
        }
        for bad in ["", "2024", "2024-13-01", "2024-00-15", "2024-01-32", "not-a-date", "15-01-2024", "2024/01/15", "2024-02-30", "2023-02-29", "2024-06-15T24:00:00Z", "2024-06-15T10:30", "2024-06-15T10:30:00.Z"] {
            #expect(!FormatValidators.isISODate(bad), "\(bad)")
        }
    }

    @Test func generatedAndDefaults() throws {
        let clock = TestClock()
        let store = makeStore(clock: clock)
        try store.defineBucket("g", config: [
            "key": "id",
            "schema": [
                "id": ["type": "string", "generated": "cuid"], "seq": ["type": "number", "generated": "autoincrement"],
                "at": ["type": "number", "generated": "timestamp"], "u": ["type": "string", "generated": "uuid"],
                "status": ["type": "string", "default": "new"], "tags": ["type": "array", "default": ["x"]],
            ],
        ])
        let r = try store.insert(bucket: "g", record: [:])
        let id = try #require(r["id"]?.stringValue)
        #expect(id.count == 33 && id.hasPrefix("c") && id.dropFirst().allSatisfy { "0123456789abcdef".contains($0) })
        #expect(r["seq"] == 1 && r["at"] == .int(clock.now) && r["status"] == "new" && r["tags"] == ["x"])
        // explicit values win; explicit null blocks generation and default
        let r2 = try store.insert(bucket: "g", record: ["id": "mine", "seq": 77, "status": .null, "u": .null])
        #expect(r2["id"] == "mine" && r2["seq"] == 77 && r2["status"] == .null && r2["u"] == .null)
        // generated fields are frozen on update
        let r3 = try store.update(bucket: "g", key: "mine", changes: ["seq": 1, "at": 5, "status": "done"])
        #expect(r3["seq"] == 77 && r3["at"] == r2["at"] && r3["status"] == "done")
        // the counter advanced once per successful insert (parity), so the next generated id is 3
        #expect(try store.insert(bucket: "g", record: [:])["seq"] == 3)
        // seeded ids are deterministic
        let a = makeStore(), b = makeStore()
        for s in [a, b] { try s.defineBucket("g", config: ["key": "id", "schema": ["id": ["type": "string", "generated": "uuid"]]]) }
        #expect(try a.insert(bucket: "g", record: [:])["id"] == b.insert(bucket: "g", record: [:])["id"])
    }

    @Test func keyRules() throws {
        let store = makeStore()
        try store.defineBucket("k", config: ["key": "id", "schema": ["id": ["type": "string"], "n": ["type": "number"]]])
        // a keyless record is refused (the original stored it under `undefined`)
        #expect(catchError { _ = try store.insert(bucket: "k", record: ["n": 1]) }
            == .validation(bucket: "k", issues: [ValidationIssue(field: "id", message: "Field is required", code: "required")]))
        _ = try store.insert(bucket: "k", record: ["id": "a", "n": 1])
        let dup = catchError { _ = try store.insert(bucket: "k", record: ["id": "a", "n": 2]) }
        #expect(dup == .recordAlreadyExists(bucket: "k", key: "a"))
        #expect(dup?.code == "ALREADY_EXISTS")
        #expect(dup?.message == "Record with key \"a\" already exists in bucket \"k\"")
        #expect(try store.get(bucket: "k", key: "a")?["n"] == 1)
        // number and string keys are distinct, 1 and 1.0 are the same number
        try store.defineBucket("nk", config: ["key": "id", "schema": ["id": ["type": "number"]]])
        _ = try store.insert(bucket: "nk", record: ["id": 1])
        #expect(try store.get(bucket: "nk", key: 1.0) != nil)
        #expect(try store.get(bucket: "nk", key: "1") == nil)
    }

    @Test func uniqueNullsAndUpdates() throws {
        let store = makeStore()
        try store.defineBucket("u", config: ["key": "id", "schema": ["id": ["type": "string"], "code": ["type": "string", "unique": true]]])
        _ = try store.insert(bucket: "u", record: ["id": "a", "code": .null])
        _ = try store.insert(bucket: "u", record: ["id": "b", "code": .null])
        _ = try store.insert(bucket: "u", record: ["id": "c"])
        _ = try store.insert(bucket: "u", record: ["id": "d", "code": "X"])
        #expect(catchError { _ = try store.update(bucket: "u", key: "a", changes: ["code": "X"]) }?.name == "UniqueConstraintError")
        _ = try store.update(bucket: "u", key: "d", changes: ["code": .null])
        _ = try store.update(bucket: "u", key: "a", changes: ["code": "X"])
        #expect(try store.findOne(bucket: "u", filter: ["code": "X"])?["id"] == "a")
        // null filter on an indexed field matches nulls (the original returned [] there)
        #expect(try store.where(bucket: "u", filter: ["code": .null]).field("id") == ["b", "d"])
    }

    @Test func ttlParsing() throws {
        let cases: [(JSON, Double)] = [("30s", 30000), ("5m", 300_000), ("1h", 3_600_000), ("7d", 604_800_000), ("90d", 7_776_000_000),
                                       ("1.5h", 5_400_000), ("0.5d", 43_200_000), ("2.5s", 2500), ("10 m", 600_000), (100, 100), (2.5, 2.5)]
        for (input, ms) in cases { #expect(try parseTTL(input) == ms) }
        for bad in ["", "fast", "10w", "100", "h", "-5m", "5M", "1.s"] as [JSON] {
            let e = catchError { _ = try parseTTL(bad) }
            #expect(e?.message == "Invalid TTL format \"\(bad.stringValue!)\". Expected a number (ms) or string like \"30s\", \"5m\", \"1h\", \"7d\".")
        }
        #expect(catchError { _ = try parseTTL("0s") }?.message == "TTL value must be positive, got \"0s\"")
        #expect(catchError { _ = try parseTTL(0) }?.message == "TTL must be a positive finite number, got 0")
        #expect(catchError { _ = try parseTTL(-5) }?.message == "TTL must be a positive finite number, got -5")
        let store = makeStore()
        #expect(catchError { try store.defineBucket("t", config: ["key": "id", "schema": ["id": ["type": "string"]], "ttl": "soon"]) }?.code == "INTERNAL_ERROR")
        #expect(!store.hasBucket("t"))
        try store.defineBucket("t", config: ["key": "id", "schema": ["id": ["type": "string"]], "ttl": "1s"])
    }

    @Test func bucketNames() throws {
        let store = makeStore()
        for ok in ["users", "_users", "max-event", "unique_items", "B2"] {
            try store.defineBucket(ok, config: ["key": "id", "schema": ["id": ["type": "string"]]])
        }
        for bad in ["a.b", "", "sp ace", "ü"] {
            #expect(catchError { try store.defineBucket(bad, config: ["key": "id", "schema": ["id": ["type": "string"]]]) }?.code == "INTERNAL_ERROR")
        }
    }
}
