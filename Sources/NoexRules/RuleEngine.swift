import NoexJSON
import NoexRegex

/// The rule engine: facts, events, rules, timers and event subscribers, on one thread.
///
/// Every call is synchronous and returns after all of its consequences ran: subscribers are
/// notified before any rule reacts to an event, matching rules run one after another in
/// priority order, and an `emit_event` action runs its whole chain depth-first before the
/// rule's next action (docs/rules.md#semantics-in-brief, sequential model). A call made while
/// the engine is already processing (from inside a subscriber handler) is queued and runs
/// after the current trigger, in FIFO order.
///
/// Errors inside rules never escape: a failing action is skipped, a failing condition skips
/// its rule; both are counted in `containedErrorCount` and logged.
public final class RuleEngine {
    public let config: RuleEngineConfig
    let clock: RulesClock

    /// Called with the new earliest timer deadline (ms since epoch) whenever it changes, or
    /// `nil` when no timer is pending. The loop re-arms one timer and calls `fireDueTimers()`.
    public var onTimerDeadlineChanged: ((Int64?) -> Void)?

    public private(set) var isRunning = true

    // MARK: State

    var facts = FactStore()
    var timers = TimerTable()
    var subscribers = Subscribers()
    var rules: [String: Rule] = [:]
    /// The same rules as the event path sees them (also referenced from the trigger indexes).
    var runtimes: [String: RuleRuntime] = [:]
    var ruleOrder = InsertionOrderedSet<String>()
    var eventIndex = TriggerIndex()
    var factIndex = TriggerIndex()
    var timerIndex = TriggerIndex()
    /// Groups by id → enabled. No wire operation creates one (docs/rules.md).
    var groups: [String: Bool] = [:]
    var regexCache: [String: BoundedRegex?] = [:]
    /// A `matches` pattern that overran while the current condition list ran (RegexConditions).
    var overrunPattern: String?
    /// The first rule skipped by an overrun since the current API call began.
    var regexOverrun: RegexOverrun?
    var ids = IdGenerator()

    var nextRuleVersion = 1
    /// The time of the replicated entry being applied (RuleEngine+Replication.swift), which
    /// every timestamp, version time and timer deadline reads instead of `clock`.
    var pinnedNowMs: Int64?
    var eventsProcessed = 0
    var rulesExecuted = 0
    var totalProcessingMs: Int64 = 0
    /// Actions and rules that failed and were contained (not part of the wire stats).
    public private(set) var containedErrorCount = 0

    /// Rule executions on the current call stack (the depth guard's measure, docs/rules.md#semantics-in-brief).
    var depth = 0
    /// Rule executions left for the current top-level trigger.
    var budget = 0
    var processing = false
    var pending: [() -> Void] = []
    var reportedDeadline: Int64?

    public init(config: RuleEngineConfig = RuleEngineConfig(), clock: RulesClock) {
        self.config = config
        self.clock = clock
    }

    // MARK: - Lifecycle

    /// Stops the engine: later mutating calls fail with `RULES_NOT_AVAILABLE`; pending timers
    /// and subscribers are dropped.
    public func stop() {
        isRunning = false
        timers.removeAll()
        subscribers.removeAll()
        pending.removeAll()
        reportDeadline()
    }

    /// Starts a stopped engine again (facts and rules are kept).
    public func start() { isRunning = true }

    func ensureRunning() throws(RulesError) {
        guard isRunning else { throw RulesError.notRunning(config.name) }
    }

    // MARK: - Events

    /// `emit` / `emitCorrelated`: builds an API event and runs the event pipeline.
    @discardableResult
    public func emit(
        topic: String, data: JSONObject = JSONObject(), correlationId: String? = nil, causationId: String? = nil
    ) throws(RulesError) -> RuleEvent {
        try ensureRunning()
        let event = makeEvent(topic, data, correlationId: correlationId, causationId: causationId, source: .api)
        _ = takeRegexOverrun()
        topLevel { self.runEventPipeline(event) }
        if let overrun = takeRegexOverrun() { throw overrun.error }
        return event
    }

    // MARK: - Facts

    /// `setFact`: stores the fact (source "api"), then runs the fact rules whose pattern
    /// matches the key. The set_fact action does not come through here.
    @discardableResult
    public func setFact(key: String, value: JSON?) throws(RulesError) -> Fact {
        try ensureRunning()
        let fact = facts.set(key, value, source: "api", now: nowMs())
        _ = takeRegexOverrun()
        topLevel { self.runFactRules(fact) }
        if let overrun = takeRegexOverrun() { throw overrun.error }
        return fact
    }

    /// The fact's value; `nil` when absent (the wire writes `null`).
    public func getFact(_ key: String) -> JSON? { facts.get(key)?.value }

    /// The whole fact, if present.
    public func fact(_ key: String) -> Fact? { facts.get(key) }

    /// Removes a fact. Runs no rules and emits no event.
    @discardableResult
    public func deleteFact(_ key: String) throws(RulesError) -> Bool {
        try ensureRunning()
        return facts.delete(key)
    }

    /// `rules.queryFacts` (matcher docs/protocol/rule-format.md#patterns).
    public func queryFacts(_ pattern: String) -> [Fact] { facts.query(pattern) }

    /// Every fact in key insertion order.
    public func getAllFacts() -> [Fact] { facts.all() }

    // MARK: - Timers

    /// Sets (or replaces, by name) a timer from a `{name, duration, onExpire:{topic,data},
    /// repeat?:{interval,maxCount?}}` object; `{ref}`s in `onExpire.data` are resolved against
    /// an empty trigger.
    @discardableResult
    public func setTimer(_ config: JSON, correlationId: String? = nil) throws(RulesError) -> RuleTimer {
        try ensureRunning()
        guard let o = config.objectValue else { throw RulesError(.validation, "Timer config must be an object") }
        guard o["name"]?.stringValue != nil else { throw RulesError(.validation, "Timer must have a \"name\" field") }
        let ctx = EvalContext(triggerData: .object(JSONObject()), correlationId: correlationId)
        do {
            let timer = try armTimer(TimerTemplate(o), ctx)
            reportDeadline()
            return timer
        } catch {
            throw RulesError(.validation, error.message)
        }
    }

    /// Cancels a timer by name; no event is emitted.
    @discardableResult
    public func cancelTimer(_ name: String) throws(RulesError) -> Bool {
        try ensureRunning()
        let removed = timers.remove(name)
        reportDeadline()
        return removed
    }

    public func getTimer(_ name: String) -> RuleTimer? { timers.byName[name] }

    /// The earliest pending deadline (ms since epoch), or `nil`.
    public var nextTimerDeadlineMs: Int64? { timers.nextDeadline() }

    /// Fires every timer due at `clock.nowMs()`, earliest first: for each, the timer rules
    /// whose name pattern matches run first, then the `onExpire` event goes through the event
    /// pipeline (source "timer", causationId = the timer id). Returns how many fired.
    @discardableResult
    public func fireDueTimers() -> Int {
        guard isRunning else { return 0 }
        let now = nowMs()
        var fired = 0
        while let timer = timers.popDue(now: now) {
            fired += 1
            topLevel { self.expire(timer) }
        }
        reportDeadline()
        return fired
    }

    // MARK: - Subscriptions

    /// Calls `handler` synchronously for every event whose topic matches `pattern`
    /// (matcher docs/protocol/rule-format.md#patterns), before rules react to it. Works while stopped too. Returns an id for
    /// `unsubscribe`.
    public func subscribe(pattern: String, _ handler: @escaping (RuleEvent) -> Void) -> Int {
        subscribers.add(pattern, handler)
    }

    @discardableResult
    public func unsubscribe(_ id: Int) -> Bool { subscribers.remove(id) }

    public var subscriberCount: Int { subscribers.count }

    // MARK: - Stats

    public func stats() -> RuleEngineStats {
        RuleEngineStats(
            rulesCount: rules.count, factsCount: facts.count, timersCount: timers.count,
            eventsProcessed: eventsProcessed, rulesExecuted: rulesExecuted,
            avgProcessingTimeMs: rulesExecuted == 0 ? 0 : Double(totalProcessingMs) / Double(rulesExecuted))
    }

    // MARK: - Internals

    func makeEvent(
        _ topic: String, _ data: JSONObject, correlationId: String?, causationId: String?, source: RuleEvent.Source
    ) -> RuleEvent {
        let now = nowMs()
        return RuleEvent(
            id: ids.next(now: now), topic: topic, data: data, timestamp: now,
            correlationId: correlationId, causationId: causationId, source: source)
    }

    /// Runs `work` as one top-level trigger, or queues it if a trigger is in progress.
    func topLevel(_ work: @escaping () -> Void) {
        if processing {
            pending.append(work)
            return
        }
        processing = true
        budget = config.maxRuleExecutionsPerTrigger
        work()
        while !pending.isEmpty {
            budget = config.maxRuleExecutionsPerTrigger
            pending.removeFirst()()
        }
        processing = false
        reportDeadline()
    }

    /// The time the engine's state changes carry: the pinned entry time, else the clock.
    func nowMs() -> Int64 { pinnedNowMs ?? clock.nowMs() }

    func reportDeadline() {
        let next = timers.nextDeadline()
        guard next != reportedDeadline else { return }
        reportedDeadline = next
        onTimerDeadlineChanged?(next)
    }

    func log(_ level: RulesLogLevel, _ message: String) {
        if let sink = config.log { sink(level, message) } else { print("[rules] \(level.rawValue): \(message)") }
    }

    func contained(_ message: String) {
        containedErrorCount += 1
        log(.error, message)
    }
}

@available(*, unavailable) extension RuleEngine: Sendable {}

/// Event and timer ids as the original makes them: base-36 milliseconds, "-", nine random
/// base-36 characters. The random part comes from a SplitMix64 stream seeded once from the
/// system generator (ids need to be unique, not secret; a syscall per id was measurable).
struct IdGenerator {
    private var random: SeededRandom = {
        var system = SystemRandomNumberGenerator()
        return SeededRandom(seed: system.next())
    }()
    private var lastMs: Int64 = .min
    private var prefix = ""

    /// Restarts the random part from `seed`: a replicated entry draws the same ids on every node.
    mutating func reseed(_ seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func next(now: Int64) -> String {
        if now != lastMs {
            lastMs = now
            prefix = String(now, radix: 36) + "-"
        }
        var r = random.next() % 101_559_956_668_416  // 36^9
        var tail = [UInt8](repeating: 0, count: 9)
        for i in stride(from: 8, through: 0, by: -1) {
            let d = UInt8(r % 36)
            tail[i] = d < 10 ? UInt8(ascii: "0") + d : UInt8(ascii: "a") + d - 10
            r /= 36
        }
        return prefix + String(decoding: tail, as: UTF8.self)
    }
}
