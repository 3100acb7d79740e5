import Foundation
import Testing

/// A real HTTP client for the monitoring endpoints: curl in a child process, bounded by
/// `--max-time`. `-i` keeps the status line and headers in the output.
struct CurlResponse {
    var status: Int
    /// Header names lower-cased.
    var headers: [String: String]
    var body: String
}

/// Runs `curl -s -i [extra] http://127.0.0.1:PORT<path>`; nil when curl fails (no answer).
func curl(port: Int, _ path: String, _ extra: [String] = []) -> CurlResponse? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    p.arguments = ["-s", "-i", "--max-time", "5"] + extra + ["http://127.0.0.1:\(port)\(path)"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { return nil }
    let text = String(decoding: data, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { return nil }
    let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
    let statusParts = lines[0].split(separator: " ")
    guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return CurlResponse(status: status, headers: headers, body: String(text[split.upperBound...]))
}

/// A strict reader of the Prometheus text format 0.0.4 as we write it: every family has one
/// `# HELP` then one `# TYPE` line before its samples, samples of a family are contiguous and
/// named after it (histograms/summaries may add `_bucket`, `_sum`, `_count`), counters end in
/// `_total`, names and label names are valid, label values use only the three escapes, every
/// value parses, and no series appears twice. Throws a message naming the bad line.
struct Exposition {
    struct Family: Equatable {
        var type: String
        var help: String
    }
    var families: [String: Family] = [:]
    /// `name{a="x",b="y"}` (labels as written) → value.
    var samples: [String: Double] = [:]

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    subscript(_ series: String) -> Double { samples[series] ?? 0 }

    init(parsing text: String) throws {
        guard text.isEmpty || text.hasSuffix("\n") else { throw Malformed(description: "the text must end with a newline") }
        var current: String?
        var pendingHelp: (name: String, help: String)?
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
            func bad(_ why: String) -> Malformed { Malformed(description: "line \(n + 1) \"\(line)\": \(why)") }
            if line.hasPrefix("# HELP ") {
                let rest = line.dropFirst(7)
                guard let sp = rest.firstIndex(of: " ") else { throw bad("HELP without text") }
                let name = String(rest[..<sp])
                guard Self.isName(name), families[name] == nil, pendingHelp == nil else { throw bad("bad or repeated HELP") }
                var help = "", escaped = false
                for c in rest[rest.index(after: sp)...] {
                    if escaped {
                        guard c == "\\" || c == "n" else { throw bad("bad escape in HELP") }
                        help.append(c == "n" ? "\n" : "\\")
                        escaped = false
                    } else if c == "\\" { escaped = true } else { help.append(c) }
                }
                guard !escaped else { throw bad("dangling escape") }
                pendingHelp = (name, help)
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2, let h = pendingHelp, h.name == parts[0] else { throw bad("TYPE must follow its HELP") }
                let type = String(parts[1])
                guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(type) else { throw bad("unknown type") }
                guard type != "counter" || h.name.hasSuffix("_total") else { throw bad("counter name must end in _total") }
                families[h.name] = Family(type: type, help: h.help)
                current = h.name
                pendingHelp = nil
            } else if line.hasPrefix("#") || line.isEmpty {
                throw bad("unexpected comment or blank line")
            } else {
                guard let family = current, pendingHelp == nil else { throw bad("sample before its family's TYPE") }
                var i = line.startIndex
                while i < line.endIndex, line[i] != "{", line[i] != " " { i = line.index(after: i) }
                let name = String(line[..<i])
                let suffixes = ["histogram", "summary"].contains(families[family]!.type) ? ["", "_bucket", "_sum", "_count"] : [""]
                guard suffixes.contains(where: { family + $0 == name }) else { throw bad("sample \(name) outside family \(family)") }
                var series = name
                if i < line.endIndex, line[i] == "{" {
                    guard let close = Self.labelsEnd(line, from: i) else { throw bad("bad labels") }
                    series += line[i...close]
                    i = line.index(after: close)
                }
                guard i < line.endIndex, line[i] == " " else { throw bad("missing value") }
                let valueText = String(line[line.index(after: i)...])
                guard let value = Self.value(valueText) else { throw bad("bad value \(valueText)") }
                guard samples[series] == nil else { throw bad("repeated series") }
                samples[series] = value
            }
        }
        guard pendingHelp == nil else { throw Malformed(description: "HELP without TYPE at the end") }
    }

    static func isName(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, !("0"..."9").contains(f) else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == ":" }
    }

    /// Index of the `}` closing a label set opened at `start`, validating names, quotes and escapes.
    static func labelsEnd(_ line: Substring, from start: Substring.Index) -> Substring.Index? {
        var i = line.index(after: start)
        var first = true
        while i < line.endIndex {
            if line[i] == "}" { return first ? nil : i }
            if !first {
                guard line[i] == "," else { return nil }
                i = line.index(after: i)
            }
            var name = ""
            while i < line.endIndex, line[i] != "=" { name.append(line[i]); i = line.index(after: i) }
            guard isName(name), !name.contains(":"), i < line.endIndex else { return nil }
            i = line.index(after: i)
            guard i < line.endIndex, line[i] == "\"" else { return nil }
            i = line.index(after: i)
            while true {
                guard i < line.endIndex else { return nil }
                let c = line[i]
                if c == "\"" { break }
                if c == "\\" {
                    i = line.index(after: i)
                    guard i < line.endIndex, ["\\", "\"", "n"].contains(line[i]) else { return nil }
                }
                i = line.index(after: i)
            }
            i = line.index(after: i)
            first = false
        }
        return nil
    }

    static func value(_ s: String) -> Double? {
        switch s {
        case "NaN": return .nan
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        default:
            guard !s.isEmpty, s.allSatisfy({ $0.isNumber || "+-.eE".contains($0) }) else { return nil }
            return Double(s)
        }
    }
}
