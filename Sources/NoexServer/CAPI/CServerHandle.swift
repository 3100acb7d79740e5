import CUV
import NoexLoop

/// What a C `noex_server *` points to: the server, its thread-safe stop handle, whether the
/// loop is the host's, and the auth the config declared (restored when the C validate callback
/// is removed).
final class CServerHandle {
    let server: NoexServer
    let stopHandle: StopHandle?
    /// Started by `noex_server_start_on_loop`: the host runs the loop, `noex_server_run` refuses.
    let onHostLoop: Bool
    let configuredAuth: AuthConfig?

    init(server: NoexServer, onHostLoop: Bool) {
        self.server = server
        stopHandle = server.stopHandle
        self.onHostLoop = onHostLoop
        configuredAuth = server.core.config.auth
    }

    /// The stop finished and every handle whose close callback calls back into the server has
    /// closed (connections and loop timers; the other internal handles free themselves).
    var isFullyClosed: Bool {
        let t = server.transport
        return t.isStopped && t.connectionCount == 0 && t.timerCount == 0
    }

    /// The server keeps its pointer in `loop->data` (see `noex_server_start_on_loop`); a host's
    /// loop gets it back empty once the server is gone.
    func clearHostLoopData() {
        guard onHostLoop else { return }
        if uv_loop_get_data(server.loop) == UnsafeMutableRawPointer(Unmanaged.passUnretained(server.transport).toOpaque()) {
            uv_loop_set_data(server.loop, nil)
        }
    }
}
