// The one object that crosses threads: a uv_async_t wrapper an embedder uses to stop the
// server from another thread. uv_async_send is the only thread-safe libuv call.
import CUV
import Synchronization

/// Thread-safe stop request for a running `WebSocketServer`. Safe to call from any thread, any
/// number of times, also after the server has stopped (then it does nothing).
public final class StopHandle: @unchecked Sendable {
    // @unchecked: `async` is touched off the loop thread only through uv_async_send, and only
    // while `state` says the handle is open; the loop thread closes it only after it has seen
    // no sender in progress (the closed bit stops new ones).
    private let async: UnsafeMutablePointer<uv_async_t>
    /// Bit 0: closed. Bits 1...: senders currently inside `stop()`.
    private let state = Atomic<Int>(0)

    /// Throws when libuv cannot create the wake-up descriptor (e.g. EMFILE).
    init(loop: UnsafeMutablePointer<uv_loop_t>) throws(UVError) {
        async = .allocate(capacity: 1)
        let rc = uv_async_init(loop, async, onStopAsyncTrampoline)
        guard rc == 0 else {
            async.deallocate()
            throw UVError(rc)
        }
    }

    /// Asks the loop to run `stop()` with the server's configured options.
    public func stop() {
        let before = state.add(2, ordering: .acquiring).oldValue
        if before & 1 == 0 { uv_async_send(async) }
        state.subtract(2, ordering: .releasing)
    }

    /// Loop thread: refuse new senders, wait out the (instant) ones in progress, close.
    func close() {
        let before = state.bitwiseOr(1, ordering: .acquiringAndReleasing).oldValue
        guard before & 1 == 0 else { return }
        while state.load(ordering: .acquiring) > 1 {}
        uv_close(asHandle(async), onHandleClosedFree)
    }
}

private func onStopAsyncTrampoline(_ handle: UnsafeMutablePointer<uv_async_t>?) {
    WebSocketServer.from(handle!.pointee.loop).stop()
}
