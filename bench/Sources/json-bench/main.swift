// json-bench: parse and serialize typical protocol messages with NoexJSON and with
// Foundation's JSONSerialization in the same run. One line per figure: `name: value unit`.
// Every measurement is bounded in time (`secondsPerFigure`) and in iterations.
import Foundation
import NoexJSON

// Arguments: [seconds per figure, default 0.5] [--noex-only: skip Foundation, for profiling]
let secondsPerFigure = Double(CommandLine.arguments.dropFirst().first ?? "") ?? 0.5
let noexOnly = CommandLine.arguments.contains("--noex-only")
let maxIterations = 5_000_000

// MARK: - Messages

let small = #"{"id":1,"type":"store.get","payload":{"bucket":"users","key":"a1"}}"#

func record(_ i: Int) -> String {
    #"{"id":"u-\#(100_000 + i)","name":"User Number \#(i)","email":"user\#(i)@example.com","age":\#(20 + i % 50),"#
        + #""active":\#(i % 3 == 0 ? "false" : "true"),"score":\#(JSNumberFormat.string(Double(i) * 1.25 + 0.1)),"tags":["member","tier-\#(i % 4)"],"#
        + #""address":{"street":"\#(i) Main Street","city":"Praha","zip":"110 00"},"note":"line one\nline \"two\"","#
        + #""createdAt":\#(1_732_700_000_000 + i),"updatedAt":\#(1_732_700_001_234 + i),"_version":\#(1 + i % 7)}"#
}

let recordResponse = #"{"id":7,"type":"result","data":\#(record(1))}"#
let allResponse = #"{"id":9,"type":"result","data":["# + (0..<100).map(record).joined(separator: ",") + "]}"

// MARK: - Measurement

/// CPU time of this thread, in seconds. Figures are per CPU second so that they hold on a
/// shared machine where the benchmark is not alone (wall time bounds each run).
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Runs `body` repeatedly for about `secondsPerFigure` of wall time (at most `maxIterations`
/// times) and returns operations per CPU second.
/// `foundation` marks Foundation's figures, which `--noex-only` skips.
func measure(foundation: Bool = false, _ body: () -> Int) -> Double {
    if foundation && noexOnly { return 1 }
    let clock = ContinuousClock()
    var sink = 0
    for _ in 0..<10 { sink &+= body() }  // warm-up
    var iterations = 0
    var batch = 1
    let start = clock.now
    let cpuStart = cpuSeconds()
    while iterations < maxIterations {
        for _ in 0..<batch { sink &+= body() }
        iterations += batch
        if clock.now - start >= .seconds(secondsPerFigure) { break }
        if batch < 4096 { batch *= 2 }
    }
    let cpu = cpuSeconds() - cpuStart
    if sink == 42 { print("", terminator: "") }  // keeps results observable
    return Double(iterations) / cpu
}

func report(_ name: String, _ value: Double, _ unit: String) {
    let text = value >= 100 || value == value.rounded() ? String(Int(value.rounded())) : String(format: "%.2f", value)
    print("\(name): \(text) \(unit)")
}

func noexParse(_ bytes: [UInt8]) -> JSON {
    do { return try JSON.parse(bytes) } catch { fatalError("bench input does not parse: \(error)") }
}

func foundationParse(_ data: Data) -> Any {
    do { return try JSONSerialization.jsonObject(with: data) } catch { fatalError("Foundation: \(error)") }
}

func foundationSerialize(_ object: Any) -> Data {
    do { return try JSONSerialization.data(withJSONObject: object) } catch { fatalError("Foundation: \(error)") }
}

// MARK: - Runs

let messages: [(String, String)] = [("small", small), ("record", recordResponse), ("all100", allResponse)]

for (name, text) in messages {
    let bytes = Array(text.utf8)
    let data = Data(bytes)
    let value = noexParse(bytes)
    let object = foundationParse(data)
    precondition(value.serializedBytes == bytes, "\(name): NoexJSON does not reproduce the input bytes")
    report("json.size.\(name)", Double(bytes.count), "bytes")

    let parseNoex = measure { noexParse(bytes).objectValue?.count ?? 0 }
    let parseFoundation = measure(foundation: true) { (foundationParse(data) as? NSDictionary)?.count ?? 0 }
    report("json.parse.\(name).noex", parseNoex, "ops/s")
    report("json.parse.\(name).foundation", parseFoundation, "ops/s")
    report("json.parse.\(name).ratio", parseNoex / parseFoundation, "x")
    report("json.parse.\(name).noex.throughput", parseNoex * Double(bytes.count) / 1e6, "MB/s")

    let serializeNoex = measure { value.serializedBytes.count }
    let serializeFoundation = measure(foundation: true) { foundationSerialize(object).count }
    report("json.serialize.\(name).noex", serializeNoex, "ops/s")
    report("json.serialize.\(name).foundation", serializeFoundation, "ops/s")
    report("json.serialize.\(name).ratio", serializeNoex / serializeFoundation, "x")
    report("json.serialize.\(name).noex.throughput", serializeNoex * Double(bytes.count) / 1e6, "MB/s")

    let roundNoex = measure { noexParse(bytes).serializedBytes.count }
    let roundFoundation = measure(foundation: true) { foundationSerialize(foundationParse(data)).count }
    report("json.roundtrip.\(name).noex", roundNoex, "ops/s")
    report("json.roundtrip.\(name).foundation", roundFoundation, "ops/s")
    report("json.roundtrip.\(name).ratio", roundNoex / roundFoundation, "x")
}
