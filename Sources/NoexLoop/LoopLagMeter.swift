/// How late the loop runs a repeating timer: on each fire, the actual loop time minus the time
/// the fire was due. libuv re-arms a repeating timer from the loop time of its fire, so the due
/// time is the previous fire plus the period. A loop blocked by a long callback shows up here
/// as lag. Resolution is the loop clock's (1 ms).
public struct LoopLagMeter: Equatable, Sendable {
    /// Lag of the latest fire, ms.
    public private(set) var lastMs: UInt64 = 0
    /// Largest lag seen since start, ms.
    public private(set) var maxMs: UInt64 = 0
    private var dueMs: UInt64?
    private let periodMs: UInt64

    public init(periodMs: UInt64) { self.periodMs = periodMs }

    /// The timer was armed at `nowMs` (its first fire is due one period later).
    public mutating func armed(nowMs: UInt64) { dueMs = nowMs &+ periodMs }

    /// The timer fired at loop time `nowMs`.
    public mutating func fired(nowMs: UInt64) {
        if let due = dueMs {
            lastMs = nowMs > due ? nowMs - due : 0
            maxMs = max(maxMs, lastMs)
        }
        dueMs = nowMs &+ periodMs
    }
}
