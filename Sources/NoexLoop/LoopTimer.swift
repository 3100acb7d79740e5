// One-shot and repeating timers on the server's loop, for the layers above (rule timers, TTL
// expiry, rate-limit windows). Each is one uv_timer_t whose data is its slab id.
import CUV

/// Identifies a timer created by `WebSocketServer.addTimer`.
public struct LoopTimerID: Hashable, Sendable {
    let raw: ConnectionID
    init(_ raw: ConnectionID) { self.raw = raw }
}

/// A timer's handle and body.
struct LoopTimer {
    let handle: UnsafeMutablePointer<uv_timer_t>
    let body: () -> Void
    let repeats: Bool
    /// Set when uv_close was issued; the slot is freed by the close callback.
    var cancelled = false
}

extension WebSocketServer {
    /// Runs `body` on the loop after `delayMs`, then every `repeatMs` when that is given.
    /// One-shot timers release themselves after firing; cancel repeating ones with
    /// `cancelTimer`. All timers are cancelled when the server stops; timers added after the
    /// stop never fire.
    @discardableResult
    public func addTimer(delayMs: UInt64, repeatMs: UInt64? = nil, _ body: @escaping () -> Void) -> LoopTimerID {
        let handle = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
        // uv_timer_init only initialises memory on a valid loop: a failure is a broken invariant.
        let rc = uv_timer_init(loop, handle)
        precondition(rc == 0, "uv_timer_init: \(UVError(rc))")
        let id = timers.insert(LoopTimer(handle: handle, body: body, repeats: repeatMs != nil))
        setID(handle, id)
        let timerID = LoopTimerID(id)
        // After the stop finished a running timer would keep the loop alive: never start it.
        guard !isStopped else {
            cancelTimer(timerID)
            return timerID
        }
        uv_timer_start(handle, onLoopTimerTrampoline, delayMs, repeatMs ?? 0)
        return timerID
    }

    /// Runs `body` on the next loop iteration.
    public func schedule(_ body: @escaping () -> Void) {
        addTimer(delayMs: 0, body)
    }

    /// Stops a timer; it will not fire again. Stale ids are ignored.
    public func cancelTimer(_ id: LoopTimerID) {
        guard let handle = timers.withValue(id.raw, { t -> UnsafeMutablePointer<uv_timer_t>? in
            if t.cancelled { return nil }
            t.cancelled = true
            return t.handle
        }) ?? nil else { return }
        uv_close(asHandle(handle), onLoopTimerClosedTrampoline)
    }

    /// Number of live application timers.
    public var timerCount: Int { timers.count }

    func timerFired(_ id: ConnectionID) {
        guard let timer = timers[id], !timer.cancelled else { return }
        if !timer.repeats { cancelTimer(LoopTimerID(id)) }
        timer.body()
    }

    func timerClosed(_ id: ConnectionID) {
        timers.remove(id)
    }
}

private func onLoopTimerTrampoline(_ handle: UnsafeMutablePointer<uv_timer_t>?) {
    guard let id = getID(asHandle(handle!)) else { return }
    WebSocketServer.from(handle!.pointee.loop).timerFired(id)
}

private func onLoopTimerClosedTrampoline(_ handle: UnsafeMutablePointer<uv_handle_t>?) {
    let id = getID(handle!)
    let server = WebSocketServer.from(handle!.pointee.loop)
    UnsafeMutableRawPointer(handle!).deallocate()
    if let id { server.timerClosed(id) }
}
