import CUV

// `noex_server_free` on a host's loop cannot run that loop to let the server's handles finish
// closing (the host's own handles would run too, and may keep it alive forever). Instead the
// C handle stays retained and a timer on the host's loop checks every few milliseconds until
// the server is fully closed, then closes itself and releases the handle; the host's next
// `uv_run` therefore finishes the job and `uv_loop_close` succeeds afterwards.

/// How often the pending release looks again (a stop with open connections waits for their
/// close handshakes, bounded by the transport's closing timeout).
private let pollMs: UInt64 = 5

/// Releases `handle` (retained once, by the C API) when its server is fully closed: now if it
/// already is, else from a timer on the server's loop. Call on the loop thread.
func releaseWhenClosed(_ handle: Unmanaged<CServerHandle>) {
    let box = handle.takeUnretainedValue()
    if box.isFullyClosed {
        box.clearHostLoopData()
        handle.release()
        return
    }
    let timer = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
    uv_timer_init(box.server.loop, timer)
    uv_handle_set_data(UnsafeMutableRawPointer(timer).assumingMemoryBound(to: uv_handle_t.self), handle.toOpaque())
    uv_timer_start(timer, onReleasePoll, pollMs, pollMs)
}

private func onReleasePoll(_ timer: UnsafeMutablePointer<uv_timer_t>?) {
    let handle = UnsafeMutableRawPointer(timer!).assumingMemoryBound(to: uv_handle_t.self)
    let box = Unmanaged<CServerHandle>.fromOpaque(uv_handle_get_data(handle)).takeUnretainedValue()
    guard box.isFullyClosed else { return }
    uv_timer_stop(timer)
    uv_close(handle, onReleaseTimerClosed)
}

private func onReleaseTimerClosed(_ handle: UnsafeMutablePointer<uv_handle_t>?) {
    let unmanaged = Unmanaged<CServerHandle>.fromOpaque(uv_handle_get_data(handle!))
    UnsafeMutableRawPointer(handle!).deallocate()
    unmanaged.takeUnretainedValue().clearHostLoopData()
    unmanaged.release()
}
