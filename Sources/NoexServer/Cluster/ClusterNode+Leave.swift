import CUV
import NoexCluster

/// A clean stop (docs/cluster.md#trimming-and-bootstrap): the node removes its entry from
/// `noex:{NAME}:nodes`, so trimming and flow control stop waiting for it at once instead of
/// after `nodeTimeoutMs`. The wait for Redis' answer is bounded: a Redis that does not answer
/// leaves the entry to time out, as after a crash.
extension ClusterNode {
    /// How long a stop waits for Redis to confirm the removal.
    static let leaveWaitMs: UInt64 = 1_000

    /// Stops following the log, removes this node's entry (bounded wait), then closes both links
    /// and calls `done`. Runs on the loop; the loop ends once the links are closed.
    func leave(_ done: (() -> Void)? = nil) {
        reader.stop()
        guard log.connection.state == .connected else {
            close()
            done?()
            return
        }
        var finished = false
        let finish = { [weak self] in
            guard !finished else { return }
            finished = true
            self?.close()
            done?()
        }
        let deadline = OneShotLoopTimer(loop: loop, delayMs: Self.leaveWaitMs, finish)
        log.connection.send(["HDEL", nodesKey, origin]) { _ in
            deadline.cancel()
            finish()
        }
    }
}

/// One uv timer that runs `body` once after `delayMs` unless cancelled; it frees its handle
/// itself. For work at shutdown, when the server's own timers no longer fire.
final class OneShotLoopTimer {
    private var handle: UnsafeMutablePointer<uv_timer_t>?
    private var body: (() -> Void)?

    init(loop: UnsafeMutablePointer<uv_loop_t>, delayMs: UInt64, _ body: @escaping () -> Void) {
        let h = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
        uv_timer_init(loop, h)  // cannot fail on a valid loop
        handle = h
        self.body = body
        h.withMemoryRebound(to: uv_handle_t.self, capacity: 1) {
            uv_handle_set_data($0, Unmanaged.passRetained(self).toOpaque())  // released in cancel
        }
        uv_timer_start(h, { h in
            guard let h, let data = h.withMemoryRebound(to: uv_handle_t.self, capacity: 1, { uv_handle_get_data($0) }) else { return }
            let timer = Unmanaged<OneShotLoopTimer>.fromOpaque(data).takeUnretainedValue()
            let body = timer.body
            timer.cancel()
            body?()
        }, delayMs, 0)
    }

    /// Stops the timer (idempotent); `body` will not run.
    func cancel() {
        guard let h = handle else { return }
        handle = nil
        body = nil
        uv_timer_stop(h)
        h.withMemoryRebound(to: uv_handle_t.self, capacity: 1) {
            let data = uv_handle_get_data($0)
            uv_handle_set_data($0, nil)
            uv_close($0) { h in UnsafeMutableRawPointer(h!).deallocate() }
            if let data { Unmanaged<OneShotLoopTimer>.fromOpaque(data).release() }
        }
    }
}
