import CUV
import Foundation
import NoexCluster
import NoexJSON
import NoexStore
@_exported import RedisTestSupport

/// A libuv loop driven by the test thread: `run(until:)` turns it until a condition holds or
/// a bound (a safety net against hangs, not a measured time) passes.
final class TestLoop {
    let loop: UnsafeMutablePointer<uv_loop_t>
    private let tick: UnsafeMutablePointer<uv_timer_t>

    init() {
        loop = .allocate(capacity: 1)
        precondition(uv_loop_init(loop) == 0)
        tick = .allocate(capacity: 1)
        uv_timer_init(loop, tick)
        // Wakes uv_run(ONCE) regularly so the condition is re-checked.
        uv_timer_start(tick, { _ in }, 5, 5)
    }

    /// Runs the loop until `condition` is true; false when `limitMs` passed first.
    @discardableResult
    func run(limitMs: UInt64 = 15_000, until condition: () -> Bool) -> Bool {
        let start = uv_hrtime()
        while !condition() {
            if (uv_hrtime() - start) / 1_000_000 > limitMs { return false }
            uv_run(loop, UV_RUN_ONCE)
        }
        return true
    }

    /// Runs the loop for about `ms` (lets pending I/O settle).
    func spin(ms: UInt64) {
        let start = uv_hrtime()
        run(limitMs: ms + 1000) { (uv_hrtime() - start) / 1_000_000 >= ms }
    }

    /// Closes the loop; every connection on it must be closed first.
    func close() {
        uv_timer_stop(tick)
        tick.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_close($0) { h in UnsafeMutableRawPointer(h!).deallocate() } }
        var rounds = 0
        while uv_loop_alive(loop) != 0 && rounds < 1000 {
            uv_run(loop, UV_RUN_NOWAIT)
            rounds += 1
        }
        uv_loop_close(loop)
        loop.deallocate()
    }
}

extension TestLoop {
    /// Sends one command and runs the loop until its reply (or failure) arrives.
    func ask(_ c: RedisConnection, _ args: [String]) -> Result<RedisReply, RedisFailure>? {
        var result: Result<RedisReply, RedisFailure>?
        c.send(args) { result = $0 }
        run { result != nil }
        return result
    }
}

/// The bytes every node is compared on: the full snapshot of its store at its position.
func digest(_ store: Store, _ position: ClusterPosition) -> String {
    String(decoding: ClusterSnapshot.capture(store, at: position).serializedBytes, as: UTF8.self)
}

