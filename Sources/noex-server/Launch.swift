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

/// Reads a whole file; errno's text on failure.
func readFile(_ path: String) -> Result<[UInt8], CommandLineError> {
    guard let f = fopen(path, "rb") else { return .failure(CommandLineError(String(cString: strerror(errno)))) }
    defer { fclose(f) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, 65536, f) }
        if n > 0 { out.append(contentsOf: chunk[0..<n]) }
        if n < 65536 { break }
    }
    return .success(out)
}

/// Runs what the flags ask for until stopped; returns the exit status (errors exit 1 directly).
func launch(_ options: CommandLineOptions) -> Int32 {
    if options.echo {
        var config = WebSocketServerConfig(
            host: options.host ?? "127.0.0.1", port: options.port ?? 8080,
            decoder: WebSocketDecoderConfig(maxMessageBytes: options.maxPayloadBytes ?? 64 << 20, rejectBinary: false),
            // Echo clients (Autobahn 9.x) push 16 MiB messages: let the queue hold them.
            writeLimits: WriteQueueLimits(lowWaterBytes: 16 << 20, highWaterBytes: 32 << 20, hardLimitBytes: 256 << 20),
            heartbeat: nil,
            closingTimeoutMs: 2_000)
        config.useTryWrite = !options.noTryWrite
        return runEchoServer(config: config)
    }

    var file: FileConfig?
    if let path = options.configPath {
        switch readFile(path) {
        case .failure(let e):
            printErr("Error loading config file: \(e.message)")
            return 1
        case .success(let bytes):
            do {
                file = try FileConfig.decode(try JSON.parse(bytes))
            } catch let e as JSONParseError {
                printErr("Error loading config file: \(e.message)")
                return 1
            } catch {
                printErr("Error loading config file: \(error)")
                return 1
            }
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
    // A parent may have spawned us with these blocked (e.g. from a worker thread): unblock them
    // so the loop's signal watchers see them.
    var stopSignals = sigset_t()
    sigemptyset(&stopSignals)
    sigaddset(&stopSignals, SIGINT)
    sigaddset(&stopSignals, SIGTERM)
    sigprocmask(SIG_UNBLOCK, &stopSignals, nil)
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
