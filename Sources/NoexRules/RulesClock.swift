/// Where the engine reads the time. The loop implements it with its own clock
/// (`uv_now` plus an epoch offset, or the wall clock); tests use `ManualRulesClock`.
///
/// The engine never schedules anything itself: it keeps its timers in a table and reports the
/// earliest deadline through `RuleEngine.onTimerDeadlineChanged`, and the loop calls
/// `RuleEngine.fireDueTimers()` when that deadline has passed.
public protocol RulesClock: AnyObject {
    /// Milliseconds since the Unix epoch (event and fact timestamps use it).
    func nowMs() -> Int64
}

/// A clock that only moves when told to; for tests and deterministic replays.
public final class ManualRulesClock: RulesClock {
    public private(set) var now: Int64

    public init(startMs: Int64 = 1_700_000_000_000) { now = startMs }

    public func nowMs() -> Int64 { now }

    /// Moves the clock forward; the caller then calls `fireDueTimers()` on the engine.
    public func advance(byMs ms: Int64) { now += ms }

    public func set(_ ms: Int64) { now = ms }
}

@available(*, unavailable) extension ManualRulesClock: Sendable {}
