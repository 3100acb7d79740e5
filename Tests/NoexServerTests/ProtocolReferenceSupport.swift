import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// The protocol reference (docs/protocol.md and docs/protocol/*.md) read as data: its fenced
/// blocks, its replayable examples and the operations its headings name. The format is described
/// in docs/protocol.md, "Reading the examples".
struct ProtocolReference {
    struct Block {
        let file: String
        let line: Int
        let info: [String]
        let lines: [(number: Int, text: String)]
    }

    /// One ```jsonc replay block.
    struct Example: Sendable, CustomTestStringConvertible {
        let file: String
        let line: Int
        let steps: [Step]
        /// Text of the ```json config=NAME block it names, nil = the binary's defaults (demo schema).
        let config: String?
        var testDescription: String { "\(file):\(line)" }
    }

    struct Step: Sendable {
        let line: Int
        let connection: String
        let send: Bool
        let text: String
    }

    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    let blocks: [Block]

    /// The reference's files: docs/protocol.md first, then docs/protocol/*.md in name order.
    static func sources() -> [(file: String, text: String)] {
        let docs = root.appendingPathComponent("docs")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: docs.appendingPathComponent("protocol").path)) ?? []
        let files = ["protocol.md"] + names.filter { $0.hasSuffix(".md") }.sorted().map { "protocol/\($0)" }
        return files.compactMap { name in
            (try? String(contentsOf: docs.appendingPathComponent(name), encoding: .utf8)).map { ("docs/\(name)", $0) }
        }
    }

    static func load() -> ProtocolReference {
        ProtocolReference(blocks: sources().flatMap { parseBlocks(file: $0.file, $0.text) })
    }

    static func parseBlocks(file: String, _ text: String) -> [Block] {
        var out: [Block] = []
        var open: (line: Int, info: [String], lines: [(Int, String)])?
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.hasPrefix("```") {
                if let o = open {
                    out.append(Block(file: file, line: o.line, info: o.info, lines: o.lines))
                    open = nil
                } else {
                    open = (i + 1, line.dropFirst(3).split(separator: " ").map(String.init), [])
                }
            } else if open != nil {
                open!.lines.append((i + 1, line))
            }
        }
        return out
    }

    /// Every heading line of the reference (outside fenced blocks).
    static func headings() -> [(file: String, text: String)] {
        var out: [(String, String)] = []
        for (file, text) in sources() {
            var inFence = false
            for line in text.split(separator: "\n") {
                if line.hasPrefix("```") { inFence.toggle() }
                if !inFence, line.hasPrefix("#") { out.append((file, String(line))) }
            }
        }
        return out
    }

    /// Operation names written as `ns.name` in code spans of headings.
    static func operationsNamedInHeadings() -> Set<String> {
        var ops: Set<String> = []
        for (_, heading) in headings() {
            let spans = heading.split(separator: "`", omittingEmptySubsequences: false)
            for (i, span) in spans.enumerated() where i % 2 == 1 {
                let parts = span.split(separator: ".", omittingEmptySubsequences: false)
                if parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isLetter) }) {
                    ops.insert(String(span))
                }
            }
        }
        return ops
    }

    /// The step of one example line, or nil when the line is not a frame line.
    static func step(_ number: Int, _ text: String) -> Step? {
        var rest = Substring(text)
        var connection = "a"
        if let first = rest.first, first.isLetter, rest.dropFirst().first == " " {
            connection = String(first)
            rest = rest.dropFirst(2)
        }
        guard let arrow = rest.first, arrow == "→" || arrow == "←" else { return nil }
        let body = rest.dropFirst().drop { $0 == " " }
        return Step(line: number, connection: connection, send: arrow == "→", text: String(body))
    }

    var examples: [Example] {
        var configs: [String: String] = [:]
        for b in blocks where b.info.first == "json" {
            for word in b.info where word.hasPrefix("config=") {
                configs[String(word.dropFirst(7))] = b.lines.map(\.text).joined(separator: "\n")
            }
        }
        return blocks.filter { $0.info.first == "jsonc" && $0.info.contains("replay") }.map { b in
            let steps = b.lines.compactMap { Self.step($0.number, $0.text) }
            let configName = b.info.first { $0.hasPrefix("config=") }.map { String($0.dropFirst(7)) }
            return Example(file: b.file, line: b.line, steps: steps,
                           config: configName.map { configs[$0] ?? "missing config block \($0)" })
        }
    }

    /// Blocks that contain frame lines but are not tagged `replay` (an example that escapes the test).
    var untaggedFrameBlocks: [String] {
        blocks.filter { b in
            !b.info.contains("replay") && b.lines.contains { Self.step($0.number, $0.text) != nil }
        }.map { "\($0.file):\($0.line)" }
    }
}

/// Placeholders in example frames: `"<kind>"` or `"<kind:name>"` as a whole JSON string.
enum ExamplePlaceholder {
    static let kinds: Set<String> = ["ts", "uuid", "str", "int", "any"]

    /// (kind, name?) when `s` is a placeholder.
    static func parse(_ s: String) -> (kind: String, name: String?)? {
        guard s.hasPrefix("<"), s.hasSuffix(">") else { return nil }
        let inner = s.dropFirst().dropLast()
        let parts = inner.split(separator: ":", maxSplits: 1).map(String.init)
        guard let kind = parts.first, kinds.contains(kind) else { return nil }
        return (kind, parts.count == 2 ? parts[1] : nil)
    }

    static func fits(_ kind: String, _ value: JSON) -> Bool {
        switch kind {
        case "ts": if case .int(let i) = value { return i > 1_600_000_000_000 } else { return false }
        case "int": if case .int = value { return true } else { return false }
        case "uuid":
            guard case .string(let s) = value else { return false }
            return s.count == 36 && s.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12]
        case "str": if case .string(let s) = value { return !s.isEmpty } else { return false }
        default: return true
        }
    }

    /// Binds the placeholders of `expected` against `actual` (same shape required around them).
    static func bind(_ expected: JSON, _ actual: JSON, _ bindings: inout [String: JSON]) -> String? {
        switch (expected, actual) {
        case (.string(let s), _) where parse(s) != nil:
            let (kind, name) = parse(s)!
            guard fits(kind, actual) else { return "\(s) does not fit \(actual.jsonString)" }
            if let name {
                if let bound = bindings[name], bound != actual { return "\(s) is \(bound.jsonString), got \(actual.jsonString)" }
                bindings[name] = actual
            }
            return nil
        case (.object(let e), .object(let a)):
            for (key, value) in e {
                guard let other = a[key] else { return "missing key \(key)" }
                if let problem = bind(value, other, &bindings) { return problem }
            }
            return nil
        case (.array(let e), .array(let a)):
            guard e.count == a.count else { return "array of \(a.count), expected \(e.count)" }
            for (x, y) in zip(e, a) { if let problem = bind(x, y, &bindings) { return problem } }
            return nil
        default:
            return nil
        }
    }

    /// `expected` with every placeholder replaced by the value it matched in `actual`.
    static func substitute(_ expected: JSON, _ actual: JSON, _ bindings: [String: JSON]) -> JSON {
        switch (expected, actual) {
        case (.string(let s), _) where parse(s) != nil:
            return parse(s)!.name.flatMap { bindings[$0] } ?? actual
        case (.object(let e), .object(let a)):
            return .object(JSONObject(e.map { entry in
                (entry.key, a[entry.key].map { substitute(entry.value, $0, bindings) } ?? entry.value)
            }))
        case (.array(let e), .array(let a)) where e.count == a.count:
            return .array(zip(e, a).map { substitute($0, $1, bindings) })
        default:
            return expected
        }
    }

    /// A frame to send with every `"<kind:name>"` replaced by the bound value.
    static func fill(_ text: String, _ bindings: [String: JSON]) -> (text: String, unbound: String?) {
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "\"<") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].range(of: ">\"") else { break }
            let token = String(rest[rest.index(after: start.lowerBound)..<rest.index(before: end.upperBound)])
            if let (_, name) = parse(token), let name {
                guard let value = bindings[name] else { return (text, token) }
                out += value.jsonString
            } else {
                out += rest[start.lowerBound..<end.upperBound]
            }
            rest = rest[end.upperBound...]
        }
        return (out + rest, nil)
    }
}
