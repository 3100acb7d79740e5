// Echo mode: a plain WebSocket echo server over NoexLoop, for the Autobahn conformance suite
// and transport benchmarks. Every text or binary message is sent back unchanged; the server
// sends no heartbeat pings.
import CUV
import NoexLoop

#if canImport(Glibc)
    import Glibc
#endif

/// Echoes every message back to its sender: the borrowed message is framed straight into the
/// connection's write queue, with no copy of its own.
final class EchoDelegate: WebSocketServerDelegate {
    func onText(_ server: WebSocketServer, _ id: ConnectionID, _ bytes: UnsafeRawBufferPointer) {
        server.send(id, text: bytes)
    }

    func onBinary(_ server: WebSocketServer, _ id: ConnectionID, _ bytes: UnsafeRawBufferPointer) {
        server.send(id, binary: bytes)
    }
}

/// Runs the echo server on a private loop until SIGINT/SIGTERM; returns 0 after a clean stop.
func runEchoServer(config: WebSocketServerConfig) -> Int32 {
    let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
    defer { loop.deallocate() }
    let initialized = uv_loop_init(loop)
    guard initialized == 0 else {
        printErr("Error: cannot create the event loop: \(UVError(initialized)); the process may be out of file descriptors (ulimit -n)")
        return 1
    }
    let server = WebSocketServer(loop: loop, config: config)
    let delegate = EchoDelegate()
    server.delegate = delegate
    do {
        try server.start()
    } catch {
        printErr("Error: \(listenFailureMessage(host: config.host, port: config.port, error: error))")
        uv_run(loop, UV_RUN_DEFAULT)
        _ = uv_loop_close(loop)
        return 1
    }
    do {
        try server.stopOnSignals([SIGINT, SIGTERM])
    } catch {
        printErr("noex-server: cannot watch signals: \(error)")
        server.stop()
        server.run()
        _ = uv_loop_close(loop)
        return 1
    }
    print("listening on \(urlHost(config.host)):\(server.port)")
    fflush(nil)  // flush stdout so a script reading the port sees the line now
    server.run()
    let rc = uv_loop_close(loop)
    if rc != 0 { printErr("noex-server: uv_loop_close: \(UVError(rc))") }
    return rc == 0 ? 0 : 1
}

/// Writes a line to standard error.
func printErr(_ s: String) {
    let line = Array((s + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
