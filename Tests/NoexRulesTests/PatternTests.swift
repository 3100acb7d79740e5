import Testing

@testable import NoexRules

/// The four matchers of docs/protocol/rule-format.md#patterns, each against its own table.
struct PatternTests {
    // (a) rule trigger topic
    @Test(arguments: [
        ("order.created", "order.created", true),
        ("order.created", "order.updated", false),
        ("order.*", "order.created", true),
        ("order.*", "order.a.b", true),
        ("order.*", "order", false),
        ("order.*", "orders.created", false),
        ("*", "foo", true),
        ("*", "a.b", false),
        ("ord*", "order", true),
        ("ord*", "ord", false),
        ("*.created", "x.created", true),
        ("*.created", "x.y.created", false),
        ("a.*.c", "a.b.c", true),
        ("a.*.c", "a.b.b.c", false),
        ("a*c", "a.c", false),
        ("order", "order.created", false),
        ("o.d", "oxd", false),
    ])
    func ruleTopic(pattern: String, topic: String, expected: Bool) {
        #expect(Patterns.matchesRuleTopic(pattern, topic) == expected)
    }

    // (b) subscription
    @Test(arguments: [
        ("order.created", "order.created", true),
        ("order.created", "order", false),
        ("*", "order.created", true),
        ("*", "any", true),
        ("*", "a.b.c", true),
        ("order.*", "order", true),
        ("order.*", "order.created", true),
        ("order.*", "order.created.v2", true),
        ("order.*", "payment.received", false),
        ("order.*", "orders", false),
        ("a.*.c", "a.b.c", true),
        ("a.*.c", "a.b", false),
        ("a.*.c", "a.b.c.d", false),
        ("*.b", "x.b", true),
        ("*.b", "x.c", false),
        ("*.b", "x.b.c", false),
        ("ord*", "order", false),
        ("ord*", "ord*", true),
        ("bucket.*.*", "bucket.users.inserted", true),
        ("bucket.*.*", "bucket.users", true),
    ])
    func subscription(pattern: String, topic: String, expected: Bool) {
        #expect(Patterns.matchesSubscription(pattern, topic) == expected)
    }

    // (c) fact trigger / timer name
    @Test(arguments: [
        ("user:1:name", "user:1:name", true),
        ("user:*", "user:1", true),
        ("user:*", "user:", true),
        ("user:*", "user:1:name", false),
        ("user:*", "users:1", false),
        ("user:*:name", "user:1:name", true),
        ("user:*:name", "user:1:name:x", false),
        ("user:*:name", "user::name", false),
        ("*", "user", true),
        ("*", "user:1", false),
        ("us*:1", "user:1", true),
        ("a.c:*:x", "abc:1:x", true),
        ("pay:*", "pay:A", true),
        ("user:1", "user:2", false),
        ("*:*", "a:b", true),
        ("*:*", "a:b:c", false),
    ])
    func factKey(pattern: String, key: String, expected: Bool) {
        #expect(Patterns.matchesFactKey(pattern, key) == expected)
        #expect(Patterns.matchesTimerName(pattern, key) == expected)
    }

    // (d) fact queries
    @Test func factQueryTable() {
        var store = FactStore()
        for key in ["user:1:name", "user:2:name", "user:1:role", "system:version", "solo", "a::b"] {
            store.set(key, .string(key), source: "api", now: 0)
        }
        func keys(_ p: String) -> [String] { store.query(p).map(\.key) }
        #expect(keys("user:*:name") == ["user:1:name", "user:2:name"])
        #expect(keys("user:*") == [])
        #expect(keys("*") == ["solo"])
        #expect(keys("nothing:*") == [])
        #expect(keys("user:1:name") == ["user:1:name"])
        #expect(keys("missing") == [])
        #expect(keys("us*:1:name") == [])  // literal first-segment index: the original's quirk
        #expect(keys("*:*:name") == ["user:1:name", "user:2:name"])
        #expect(keys("a:*:b") == [])
        #expect(keys("system:*") == ["system:version"])
    }

    @Test func factQueryOrderFollowsKeyCreation() {
        var store = FactStore()
        store.set("u:b", 1, source: "api", now: 0)
        store.set("u:a", 1, source: "api", now: 0)
        store.set("u:c", 1, source: "api", now: 0)
        store.set("u:b", 2, source: "api", now: 0)  // update keeps its place
        #expect(store.query("u:*").map(\.key) == ["u:b", "u:a", "u:c"])
        store.delete("u:b")
        store.set("u:b", 3, source: "api", now: 0)  // delete + set moves it to the end
        #expect(store.query("u:*").map(\.key) == ["u:a", "u:c", "u:b"])
        #expect(store.all().map(\.key) == ["u:a", "u:c", "u:b"])
        #expect(store.get("u:b")?.version == 1)
    }
}
