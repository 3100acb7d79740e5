// The `noex-server` executable. For now only `--echo` is implemented (the transport issue);
// the JSON protocol server replaces the non-echo path later.
import ArgumentParser
import CUV
import NoexLoop

#if canImport(Glibc)
    import Glibc
#endif

@main
struct NoexServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noex-server",
        abstract: "A JSON-over-WebSocket server on one libuv event loop.")

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind (0 picks a free port; the real one is printed).")
    var port = 8080

    @Flag(help: "Run a plain WebSocket echo server (for conformance tests and benchmarks).")
    var echo = false

    @Option(help: "Largest accepted message in bytes (echo mode).")
    var maxPayloadBytes = 64 << 20

    func run() throws {
        guard echo else {
            printErr("noex-server: the protocol server is not built yet; use --echo")
            throw ExitCode(2)
        }
        let config = WebSocketServerConfig(
            host: host, port: port,
            decoder: WebSocketDecoderConfig(maxMessageBytes: maxPayloadBytes, rejectBinary: false),
            // Echo clients (Autobahn 9.x) push 16 MiB messages: let the queue hold them.
            writeLimits: WriteQueueLimits(lowWaterBytes: 16 << 20, highWaterBytes: 32 << 20, hardLimitBytes: 256 << 20),
            heartbeat: nil,
            closingTimeoutMs: 2_000)
        let rc = runEchoServer(config: config)
        if rc != 0 { throw ExitCode(rc) }
    }
}

/// Runs the echo server on a private loop until SIGINT/SIGTERM; returns 0 after a clean stop.
func runEchoServer(config: WebSocketServerConfig) -> Int32 {
    let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
    defer { loop.deallocate() }
    guard uv_loop_init(loop) == 0 else { return 1 }
    let server = WebSocketServer(loop: loop, config: config)
    let delegate = EchoDelegate()
    server.delegate = delegate
    do {
        try server.start()
    } catch {
        printErr("noex-server: cannot listen on \(config.host):\(config.port): \(error)")
        uv_run(loop, UV_RUN_DEFAULT)
        _ = uv_loop_close(loop)
        return 1
    }
    server.stopOnSignals([SIGINT, SIGTERM])
    print("listening on \(config.host):\(server.port)")
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
