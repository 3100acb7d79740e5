import NoexJSON

/// A pending timer (docs/rules.md). `name` is its unique handle.
public struct RuleTimer: Sendable, Equatable {
    public let id: String
    public let name: String
    public internal(set) var expiresAt: Int64
    public let topic: String
    /// `onExpire.data`, its `{ref}`s already resolved when the timer was set.
    public let data: JSONObject
    /// Present for a repeating timer.
    public let repeatIntervalMs: Int64?
    /// Stops a repeating timer after this many expiries (the original ignores it in
    /// non-durable mode; honoured here, docs/rules.md divergence 4).
    public let repeatMaxCount: Int?
    public let correlationId: String?
    public internal(set) var firedCount = 0

    public var json: JSON {
        var o = JSONObject(minimumCapacity: 6)
        o["id"] = .string(id)
        o["name"] = .string(name)
        o["expiresAt"] = .int(expiresAt)
        o["onExpire"] = ["topic": .string(topic), "data": .object(data)]
        if let repeatIntervalMs {
            var r: JSONObject = ["interval": .int(repeatIntervalMs)]
            if let repeatMaxCount { r["maxCount"] = .int(Int64(repeatMaxCount)) }
            o["repeat"] = .object(r)
        }
        if let correlationId { o["correlationId"] = .string(correlationId) }
        return .object(o)
    }
}

/// Pending timers by name plus a min-heap of deadlines. Heap entries go stale when a timer is
/// cancelled or replaced; they are skipped when they reach the top (lazy deletion).
struct TimerTable {
    private struct Deadline {
        let at: Int64
        let seq: Int
        let name: String
        let id: String
        func precedes(_ o: Deadline) -> Bool { at != o.at ? at < o.at : seq < o.seq }
    }

    private(set) var byName: [String: RuleTimer] = [:]
    private var heap: [Deadline] = []
    private var seq = 0
    /// Bumped by every change of the pending timers (not of the heap's stale entries), so a
    /// durable store can tell cheaply whether the table it saved is still current.
    private(set) var changes = 0

    var count: Int { byName.count }

    /// Adds a timer; one with the same name must already have been removed.
    mutating func insert(_ timer: RuleTimer) {
        changes &+= 1
        byName[timer.name] = timer
        push(timer)
        // Re-arming one name over and over (a debounce) leaves stale deadlines behind that
        // may never reach the top; rebuild once they dominate.
        if heap.count > 64 && heap.count > 4 * byName.count { rebuildHeap() }
    }

    var heapSize: Int { heap.count }

    private mutating func rebuildHeap() {
        heap = []
        for timer in byName.values.sorted(by: { $0.expiresAt < $1.expiresAt }) { push(timer) }
    }

    /// The pending timers in firing order (deadline, then arming order): re-inserting them in
    /// this order rebuilds a table that fires the same way (snapshots).
    func inFiringOrder() -> [RuleTimer] {
        heap.filter(isLive).sorted { $0.precedes($1) }.compactMap { byName[$0.name] }
    }

    @discardableResult
    mutating func remove(_ name: String) -> Bool {
        guard byName.removeValue(forKey: name) != nil else { return false }
        changes &+= 1
        return true
    }

    mutating func removeAll() {
        changes &+= 1
        byName = [:]
        heap = []
    }

    /// The earliest live deadline.
    mutating func nextDeadline() -> Int64? {
        dropStale()
        return heap.first?.at
    }

    /// Takes the earliest timer due at `now` out of the schedule *before* it fires (so a rule
    /// reacting to the expiry may re-arm the same name — the original loses that, docs/rules.md divergence 4).
    /// A repeating timer is rescheduled `interval` after `now` unless its count is used up.
    /// Returns the timer as it was when it expired.
    mutating func popDue(now: Int64) -> RuleTimer? {
        dropStale()
        guard let top = heap.first, top.at <= now, var timer = byName[top.name] else { return nil }
        popHeap()
        changes &+= 1
        let expired = timer
        timer.firedCount += 1
        if let interval = timer.repeatIntervalMs, timer.repeatMaxCount.map({ timer.firedCount < $0 }) ?? true {
            timer.expiresAt = now + Swift.max(1, interval)
            byName[timer.name] = timer
            push(timer)
        } else {
            byName[timer.name] = nil
        }
        return expired
    }

    private func isLive(_ d: Deadline) -> Bool {
        guard let t = byName[d.name] else { return false }
        return t.id == d.id && t.expiresAt == d.at
    }

    private mutating func dropStale() {
        while let top = heap.first, !isLive(top) { popHeap() }
    }

    private mutating func push(_ timer: RuleTimer) {
        seq += 1
        heap.append(Deadline(at: timer.expiresAt, seq: seq, name: timer.name, id: timer.id))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].precedes(heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func popHeap() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && heap[l].precedes(heap[m]) { m = l }
            if r < heap.count && heap[r].precedes(heap[m]) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
    }
}
