import NoexJSON
import NoexLoop
import NoexRules
import Testing
@testable import NoexServer

/// Bounded random requests against every operation: the server must answer each one (result or
/// error) and never trap, whatever the field types.
@Suite struct RandomInputTests {
    static let types = [
        "store.insert", "store.get", "store.update", "store.delete", "store.all", "store.where", "store.findOne",
        "store.count", "store.first", "store.last", "store.paginate", "store.clear", "store.sum", "store.avg",
        "store.min", "store.max", "store.buckets", "store.stats", "store.transaction", "store.subscribe",
        "store.unsubscribe", "store.defineBucket", "store.dropBucket", "store.updateBucket", "store.getBucketSchema",
        "store.defineQuery", "store.undefineQuery", "store.listQueries", "rules.emit", "rules.setFact",
        "rules.getFact", "rules.deleteFact", "rules.queryFacts", "rules.getAllFacts", "rules.stats",
        "rules.subscribe", "rules.unsubscribe", "rules.registerRule", "rules.updateRule", "rules.getRule",
        "rules.validateRule", "auth.login", "auth.whoami", "auth.logout", "server.stats", "server.connections",
        "procedures.call", "identity.login", "x",
    ]
    static let fields = ["bucket", "key", "data", "filter", "n", "limit", "after", "field", "operations", "query",
                         "params", "subscriptionId", "name", "config", "updates", "topic", "value", "pattern",
                         "rule", "ruleId", "token", "correlationId"]

    func value(_ g: inout SeededRandom, depth: Int = 0) -> JSON {
        switch g.next() % (depth > 2 ? 7 : 10) {
        case 0: return .null
        case 1: return .bool(g.next() % 2 == 0)
        case 2: return .int(Int64(bitPattern: g.next()) % 5)
        case 3: return .double([-1.5, 0.5, 1e300, 2.0][Int(g.next() % 4)])
        case 4: return .string(["users", "products", "", "all-users", "sub-1", "a.*", "*", "id"][Int(g.next() % 8)])
        case 5: return .int(Int64(bitPattern: g.next()))
        case 6: return .string("k\(g.next() % 3)")
        case 7:
            return .array((0..<Int(g.next() % 3)).map { _ in value(&g, depth: depth + 1) })
        default:
            var o = JSONObject()
            for _ in 0..<Int(g.next() % 4) {
                o[["op", "bucket", "key", "data", "filter", "name", "role", "function", "type"][Int(g.next() % 9)]] = value(&g, depth: depth + 1)
            }
            return .object(o)
        }
    }

    @Test func randomRequestsAreAlwaysAnswered() {
        let engine = RuleEngine(clock: ManualRulesClock())
        let h = Harness { $0.rules = engine; $0.auth = fixtureAuth(required: false) }
        var g = SeededRandom(seed: 42)
        let c = h.connect()
        _ = c.take()
        for i in 1...3000 {
            var o: JSONObject = ["id": .int(Int64(i)), "type": .string(Self.types[Int(g.next() % UInt64(Self.types.count))])]
            for _ in 0..<Int(g.next() % 5) { o[Self.fields[Int(g.next() % UInt64(Self.fields.count))]] = value(&g) }
            let answer = c.ask(.object(o))
            #expect(answer["id"] == .int(Int64(i)), "request \(i) \(JSON.object(o).jsonString) got \(answer.jsonString)")
            if answer["id"] != .int(Int64(i)) { break }
        }
        // Garbage text frames too.
        for _ in 0..<300 {
            let bytes = (0..<Int(g.next() % 40)).map { _ in UInt8(truncatingIfNeeded: g.next() % 128) }
            h.core.textReceived(c.id, bytes)
        }
        #expect(c.ask(["id": 99_999, "type": "store.buckets"])["type"] == "result")
    }
}
