// The `noex-server` executable: flags and config file → LaunchPlan → NoexServer on one loop.
// Everything decidable without the process (flags, config keys, precedence) lives in
// NoexServer's CommandLineOptions / FileConfig / LaunchPlan and is unit-tested there.
import CUV
import NoexJSON
import NoexLoop
import NoexRules
import NoexServer
import NoexStore

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

/// Reads a whole file; nil with errno's text on failure.
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

let command: CommandLineOptions.Command
do {
    command = try CommandLineOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    fail(error.message, hint: true)
}

switch command {
case .help:
    print(CommandLineOptions.help)
    exit(0)
case .version:
    print(CommandLineOptions.version)
    exit(0)
case .run(let options):
    if options.echo {
        let port = options.port.map { Int($0) ?? -1 } ?? 8080
        guard (0...65535).contains(port) else { fail("Invalid port: \(options.port ?? "") (must be integer 0-65535)") }
        let maxPayload = options.maxPayloadBytes.map { Int($0) ?? -1 } ?? 64 << 20
        guard maxPayload >= 0 else { fail("Invalid --max-payload-bytes: \(options.maxPayloadBytes ?? "")") }
        var config = WebSocketServerConfig(
            host: options.host ?? "127.0.0.1", port: port,
            decoder: WebSocketDecoderConfig(maxMessageBytes: maxPayload, rejectBinary: false),
            // Echo clients (Autobahn 9.x) push 16 MiB messages: let the queue hold them.
            writeLimits: WriteQueueLimits(lowWaterBytes: 16 << 20, highWaterBytes: 32 << 20, hardLimitBytes: 256 << 20),
            heartbeat: nil,
            closingTimeoutMs: 2_000)
        config.useTryWrite = !options.noTryWrite
        exit(runEchoServer(config: config))
    }

    var file: FileConfig?
    if let path = options.configPath {
        switch readFile(path) {
        case .failure(let e):
            printErr("Error loading config file: \(e.message)")
            exit(1)
        case .success(let bytes):
            do {
                file = try FileConfig.decode(try JSON.parse(bytes))
            } catch let e as JSONParseError {
                printErr("Error loading config file: \(e.message)")
                exit(1)
            } catch {
                printErr("Error loading config file: \(error)")
                exit(1)
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
    server.stopOnSignals([SIGINT, SIGTERM])
    print(plan.banner(boundPort: server.port))
    fflush(nil)  // a script reading the port sees the banner now
    server.run()
    print("Stopped.")
    exit(0)
}
