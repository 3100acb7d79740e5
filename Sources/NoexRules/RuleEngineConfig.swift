import NoexJSON

/// Log levels of the `log` action and of the engine's own diagnostics.
public enum RulesLogLevel: String, Sendable {
    case debug, info, warn, error
}

/// A method a `call_service` action or a lookup may invoke: arguments in, a value out; a thrown
/// error fails only that action (or skips the rule, for a lookup).
public typealias RulesServiceMethod = ([JSON]) throws -> JSON

/// Engine settings (docs/rules.md). The stock server uses the defaults and no services.
public struct RuleEngineConfig {
    /// Appears in `RuleEngine "<name>" is not running`.
    public var name: String
    /// Rule executions nested deeper than this on the call stack no longer trigger rules
    /// (docs/rules.md#semantics-in-brief; the original's default 10).
    public var maxForwardDepth: Int
    /// Upper bound of rule executions caused by one top-level trigger (emit, setFact, timer
    /// expiry). Not in the original: it bounds fan-out cycles (two rules on `ping` each
    /// emitting `ping` would otherwise run ~2000 times). Documented divergence.
    public var maxRuleExecutionsPerTrigger: Int
    /// `services[service][method]`, for `call_service` and lookups.
    public var services: [String: [String: RulesServiceMethod]]
    /// Where `log` actions and contained errors go; `nil` prints to standard output.
    public var log: ((RulesLogLevel, String) -> Void)?

    public init(
        name: String = "rule-engine",
        maxForwardDepth: Int = 10,
        maxRuleExecutionsPerTrigger: Int = 1000,
        services: [String: [String: RulesServiceMethod]] = [:],
        log: ((RulesLogLevel, String) -> Void)? = nil
    ) {
        self.name = name
        self.maxForwardDepth = maxForwardDepth
        self.maxRuleExecutionsPerTrigger = maxRuleExecutionsPerTrigger
        self.services = services
        self.log = log
    }
}

/// `getStats()` (docs/rules.md#semantics-in-brief). Counters are cumulative for the engine's lifetime.
public struct RuleEngineStats: Sendable, Equatable {
    public let rulesCount: Int
    public let factsCount: Int
    public let timersCount: Int
    public let eventsProcessed: Int
    public let rulesExecuted: Int
    public let avgProcessingTimeMs: Double

    public var json: JSON {
        let avg: JSON = avgProcessingTimeMs.rounded() == avgProcessingTimeMs
            ? .int(Int64(avgProcessingTimeMs)) : .double(avgProcessingTimeMs)
        return [
            "rulesCount": .int(Int64(rulesCount)),
            "factsCount": .int(Int64(factsCount)),
            "timersCount": .int(Int64(timersCount)),
            "eventsProcessed": .int(Int64(eventsProcessed)),
            "rulesExecuted": .int(Int64(rulesExecuted)),
            "avgProcessingTimeMs": avg,
            "tracing": ["enabled": false, "entriesCount": 0, "maxEntries": 10000],
        ]
    }
}
