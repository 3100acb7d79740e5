// loadgen: the bundled WebSocket load generator (see bench/README.md).
import LoadgenCore

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

let size = options.size
let driver: LoadDriver
do {
    driver = try LoadDriver(options: options) { EchoGenerator(size: size) }
} catch {
    printError("\(error)")
    exit(1)
}
driver.run()

if let failure = driver.failure {
    printError(failure)
    exit(1)
}
switch options.mode {
case .echo:
    for line in driver.report.lines(prefix: options.prefix) { printLine(line) }
    exit(driver.report.wrongAnswers == 0 ? 0 : 1)
case .idle:
    exit(driver.allOpened ? 0 : 1)
}
