// Flags and config file → LaunchPlan → NoexServer on one loop (or the echo server). Everything
// decidable without the process (config keys, precedence) lives in NoexServer's FileConfig /
// LaunchPlan and is unit-tested there.
import CUV
import NoexJSON
import NoexLoop
import NoexServer

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func fail(_ message: String, hint: Bool = false) -> Never {
    printErr("Error: \(message)")
    if hint { printErr("Run \"noex-server --help\" for usage information.") }
    exit(1)
}

/// Runs what the flags ask for until stopped; returns the exit status (errors exit 1 directly).
func launch(_ options: CommandLineOptions) -> Int32 {
    // A parent may have spawned us with these blocked (e.g. from a worker thread): unblock them
    // so the loop's signal watchers see them, in both modes.
    var stopSignals = sigset_t()
    sigemptyset(&stopSignals)
    sigaddset(&stopSignals, SIGINT)
    sigaddset(&stopSignals, SIGTERM)
    sigprocmask(SIG_UNBLOCK, &stopSignals, nil)
    noex_disable_malloc_fastbins()
    if options.echo {
        var config = WebSocketServerConfig(
            host: options.host ?? "127.0.0.1", port: options.port ?? 8080,
            decoder: WebSocketDecoderConfig(maxMessageBytes: options.maxPayloadBytes ?? 64 << 20, rejectBinary: false),
            // Echo clients (Autobahn 9.x) push 16 MiB messages: let the queue hold them.
            writeLimits: WriteQueueLimits(lowWaterBytes: 16 << 20, highWaterBytes: 32 << 20, hardLimitBytes: 256 << 20),
            heartbeat: nil,
            closingTimeoutMs: 2_000)
        config.useTryWrite = !options.noTryWrite
        if options.compression { config.compression = PerMessageDeflateConfig() }
        return runEchoServer(config: config)
    }

    var file: FileConfig?
    if let path = options.configPath {
        do {
            file = try ConfigFile.load(path: path)
        } catch {
            fail(error.message)
        }
    }

    let plan: LaunchPlan
    do {
        plan = try LaunchPlan.resolve(options, file: file)
    } catch {
        fail(error.message)
    }
    let config: ServerConfig
    do {
        config = try plan.prepare()
    } catch {
        fail(error.message)
    }

    let server: NoexServer
    do {
        server = try NoexServer.start(config)
    } catch {
        fail(error.message)
    }
    do {
        try server.stopOnSignals([SIGINT, SIGTERM])
    } catch {
        fail(error.message)
    }
    print(plan.banner(boundPort: server.port))
    fflush(nil)  // a script reading the port sees the banner now
    server.run()
    print("Stopped.")
    return 0
}
