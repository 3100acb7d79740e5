import NoexJSON
import Testing

@testable import NoexStore

/// A clock the tests move by hand.
final class TestClock {
    var now: Int64 = 1_700_000_000_000
    func advance(_ ms: Int64) { now += ms }
}

func makeStore(clock: TestClock = TestClock(), name: String = "test", ttlCheckIntervalMs: Int = 0) -> Store {
    Store(name: name, ttlCheckIntervalMs: ttlCheckIntervalMs, nowMs: { clock.now }, random: SeededRandom(seed: 7))
}

enum Fixture {
    static let users: JSONObject = [
        "key": "id",
        "schema": [
            "id": ["type": "string", "generated": "uuid"],
            "name": ["type": "string", "required": true, "minLength": 1],
            "tier": ["type": "string", "enum": ["basic", "vip"], "default": "basic"],
            "email": ["type": "string", "format": "email"],
            "createdAt": ["type": "date", "generated": "timestamp"],
        ],
    ]

    static let customers: JSONObject = [
        "key": "id",
        "schema": [
            "id": ["type": "string", "generated": "uuid"],
            "name": ["type": "string", "required": true],
            "email": ["type": "string", "format": "email", "unique": true],
            "tier": ["type": "string", "enum": ["basic", "silver", "vip"], "default": "basic"],
        ],
        "indexes": ["email", "tier"],
    ]

    static let orders: JSONObject = [
        "key": "id",
        "schema": [
            "id": ["type": "number", "generated": "autoincrement"],
            "customerId": ["type": "string", "required": true],
            "amount": ["type": "number", "required": true, "min": 0],
            "items": ["type": "array", "required": true],
        ],
        "indexes": ["customerId"],
    ]

    static let scores: JSONObject = [
        "key": "id",
        "schema": [
            "id": ["type": "number", "generated": "autoincrement"],
            "name": ["type": "string", "required": true],
            "score": ["type": "number", "default": 0],
            "tier": ["type": "string", "enum": ["basic", "vip"], "default": "basic"],
        ],
        "indexes": ["tier"],
        "etsType": "ordered_set",
    ]

    /// The users/products fixture of the original's scenario list.
    static let serverUsers: JSONObject = [
        "key": "id",
        "schema": [
            "id": ["type": "string", "generated": "uuid"],
            "name": ["type": "string", "required": true],
            "email": ["type": "string"],
            "role": ["type": "string", "default": "user"],
            "age": ["type": "number"],
        ],
    ]
}

/// Records a listener's calls.
final class Recorder {
    var calls: [JSON] = []
    var listener: (JSON) -> Void { { self.calls.append($0) } }
}

extension Array where Element == JSONObject {
    func field(_ f: String) -> [JSON] { map { $0[f] ?? .null } }
}

func expectError(_ expected: StoreError, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        try body()
        Issue.record("expected \(expected), got success", sourceLocation: sourceLocation)
    } catch {
        #expect(error as? StoreError == expected, sourceLocation: sourceLocation)
    }
}

/// The StoreError `body` throws, nil when it succeeds.
func catchError(_ body: () throws -> Void) -> StoreError? {
    do {
        try body()
        return nil
    } catch {
        return error as? StoreError
    }
}
