// loadgen: the bundled WebSocket load generator (see bench/README.md).
import LoadgenCore
import LoadgenDriver

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let options: LoadgenOptions
do {
    options = try LoadgenOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch .help {
    print(LoadgenOptions.usage)
    exit(0)
} catch {
    printError("\(error)")
    writeStandardError(LoadgenOptions.usage + "\n")
    exit(2)
}

raiseOpenFileLimit()
ignoreSigpipe()

let prefix = options.prefix
let driver: LoadDriver
do {
    // Keys of this run differ from any earlier run's against the same server.
    let run = UInt64(time(nil)) &* 100_000 &+ UInt64(getpid())
    driver = try LoadDriver(options: options, log: { printError($0) }) { (connection: Int) in
        options.generator(run: run, connection: connection)
    }
} catch {
    printError("\(error)")
    exit(1)
}
if options.mode == .idle || options.mode == .hostile {
    // The caller's cue to measure the server while the connections are held.
    let mode = options.mode.rawValue
    driver.onAllConnected = { opened, failed in
        printLine("\(prefix)\(mode).connected: \(opened)")
        if failed > 0 { printLine("\(prefix)\(mode).failed: \(failed)") }
    }
}
// CPU time spent in the measured window, by this process and (if given) the server.
var cpuAtStart: (client: UInt64, server: UInt64?) = (0, nil)
var cpuSpent: (client: UInt64, server: UInt64?)?
let serverPID = options.serverPID
driver.onMeasuring = { starting in
    let client = ownCPUNanoseconds()
    let server = serverPID.flatMap { processCPUNanoseconds(pid: $0) }
    if starting {
        cpuAtStart = (client, server)
    } else {
        cpuSpent = (client - cpuAtStart.client, server.flatMap { end in cpuAtStart.server.map { end - $0 } })
    }
}
driver.run()

if let failure = driver.failure {
    printError(failure)
    exit(1)
}
switch options.mode {
case .echo, .proto, .fanout:
    var report = driver.report
    report.clientCPUNanoseconds = cpuSpent?.client
    report.serverCPUNanoseconds = cpuSpent?.server
    let lines: [String]
    switch options.mode {
    case .proto: lines = report.lines(prefix: prefix, naming: .proto(options.operation.rawValue))
    case .fanout: lines = report.fanoutLines(prefix: prefix, subscribers: options.subscribers)
    default: lines = report.lines(prefix: prefix)
    }
    for line in lines { printLine(line) }
    if driver.report.wrongAnswers > 0 {
        printError("\(driver.report.wrongAnswers) answers were not the expected ones; the first: \(driver.firstUnexpected ?? "unknown")")
    }
    exit(driver.report.wrongAnswers == 0 ? 0 : 1)
case .idle:
    if driver.dropped > 0 { printLine("\(prefix)idle.dropped: \(driver.dropped)") }
    exit(driver.allOpened ? 0 : 1)
case .hostile:
    // Connections the server closed while they were held (a slow-client disconnect).
    printLine("\(prefix)hostile.dropped: \(driver.dropped)")
    exit(driver.opened == options.connections ? 0 : 1)
}
