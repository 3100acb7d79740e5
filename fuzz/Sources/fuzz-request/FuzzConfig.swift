import NoexJSON
import NoexServer
import NoexStore

/// The two servers a request fuzz input can run against, built through the binary's own start
/// path (FileConfig -> LaunchPlan -> prepare) with the demo schema, a rule wired to the store
/// bridge, and (in the first) token auth with per-role permissions, a rate limit and the audit
/// log. Procedures are always on. Built-in identity is not fuzzed here: its password hashing
/// answers later from libuv's threadpool, and this harness runs no loop.
enum FuzzConfig {
    static let auth = """
        {
          "rateLimit": {"maxRequests": 40, "windowMs": 1000},
          "connectionLimits": {"maxSubscriptionsPerConnection": 4, "maxTotalSubscriptions": 8},
          "backpressure": {"maxBufferedBytes": 8192},
          "revocation": {"blacklistTtlMs": 5000},
          "audit": {"tiers": ["read", "write", "admin"], "maxEntries": 50},
          "procedures": {"maxItemsPerCall": 5000, "maxTemplateBytes": 65536},
          "auth": {
            "tokens": {
              "admin-token": {"userId": "admin-1", "roles": ["admin"]},
              "user-token": {"userId": "user-1", "roles": ["user"]},
              "reader-token": {"userId": "reader-1", "roles": ["reader"]},
              "orders-token": {"userId": "orders-1", "roles": ["orders"]},
              "old-token": {"userId": "old-1", "roles": ["admin"], "expiresAt": 1795727216000}
            },
            "permissions": {
              "default": "deny",
              "rules": [
                {"role": "admin", "allow": "*"},
                {"role": "reader", "allow": ["store.get", "store.all", "store.where", "store.findOne", "store.count", "store.subscribe"]},
                {"role": "user", "allow": ["store.*", "auth.*", "procedures.call", "procedures.list"], "buckets": ["users"]},
                {"role": "orders", "allow": ["rules.*"], "topics": ["order.*", "notification.*"]}
              ]
            }
          }
        }
        """

    static let open = """
        {"connectionLimits": {"maxSubscriptionsPerConnection": 6, "maxTotalSubscriptions": 12},
         "backpressure": {"maxBufferedBytes": 4096}}
        """

    static let rules: JSON = try! JSON.parse("""
        {"rules": [
          {"id": "large-order", "name": "Large order", "priority": 10, "enabled": true, "tags": ["orders"],
           "trigger": {"type": "event", "topic": "order.created"},
           "conditions": [{"source": {"type": "event", "field": "amount"}, "operator": "gt", "value": 100}],
           "actions": [
             {"type": "emit_event", "topic": "notification.large-order",
              "data": {"amount": {"ref": "event.amount"}, "orderId": {"ref": "event.orderId"}}},
             {"type": "set_fact", "key": "order:${event.orderId}:large", "value": true}]},
          {"id": "user-seen", "name": "User seen", "priority": 1, "enabled": true, "tags": [],
           "trigger": {"type": "event", "topic": "bucket.users.*"},
           "conditions": [], "actions": [{"type": "set_fact", "key": "seen:${event.key}", "value": 1}]},
          {"id": "fact-echo", "name": "Fact echo", "priority": 0, "enabled": true, "tags": [],
           "trigger": {"type": "fact", "pattern": "order:*"},
           "conditions": [], "actions": [{"type": "emit_event", "topic": "notification.fact", "data": {}}]}
        ]}
        """)

    static func decode(_ text: String) -> FileConfig {
        var file = try! FileConfig.decode(try! JSON.parse(text))
        file.buckets = DemoSchema.buckets
        file.queries = DemoSchema.queries
        file.ruleDefinitions = rules
        file.bridgeStoreToRules = true
        return file
    }

    static let authFile = decode(auth)
    static let openFile = decode(open)

    /// A fresh server configuration (new store and rule engine) on the fuzzer's clock.
    static func make(_ file: FileConfig, clock: FuzzClock) -> ServerConfig {
        var plan = try! LaunchPlan.resolve(CommandLineOptions(), file: file)
        plan.server.store = Store(name: "fuzz", nowMs: { clock.wallMs })
        return try! plan.prepare()
    }
}

/// Time as the input says it passes (a `t<ms>` line), so every run of an input is the same.
final class FuzzClock {
    var wallMs: Int64 = 1_795_727_215_924
    var monotonicMs: Int64 = 10_000

    func advance(_ ms: Int64) {
        wallMs += ms
        monotonicMs += ms
    }
}
