import NoexJSON
import Testing
@testable import NoexServer

/// `Envelope.classify(bytes:)` (the flat-object scanner straight into the request's members,
/// else the parser) must classify every frame as the parser alone would: same request id,
/// type, operation and members (number kinds and key order included), same pong timestamp,
/// same envelope error. The frames are every request of the protocol reference's examples,
/// and variants of each (whitespace, reordered and repeated members, escapes, other number
/// spellings).
@Suite struct EnvelopeScanTests {
    static func viaParser(_ bytes: [UInt8]) -> InboundMessage { Envelope.classify(try? JSON.parse(bytes)) }
    static func viaScan(_ bytes: [UInt8]) -> InboundMessage { Envelope.classify(bytes: bytes) }

    static func same(_ a: InboundMessage, _ b: InboundMessage) -> Bool {
        switch (a, b) {
        case (.request(let x), .request(let y)):
            return x.id.isIdentical(to: y.id) && x.type == y.type && x.operation == y.operation
                && JSON.object(x.fields).isIdentical(to: .object(y.fields))
                && RequestMembersTests.readsAsObject(x.members, y.fields) && RequestMembersTests.readsAsObject(y.members, x.fields)
        case (.pong(let x), .pong(let y)): return x.bitPattern == y.bitPattern
        case (.invalid(let x), .invalid(let y)): return x == y
        default: return false
        }
    }

    static func variants(_ text: String) -> [String] {
        guard case .object(let o)? = try? JSON.parse(text) else { return [text] }
        let members = o.map { "\(JSON.string($0.key).jsonString):\($0.value.jsonString)" }
        var out = [text, " " + text + "\n", "{ " + members.joined(separator: " , ") + " }",
                   "{" + members.reversed().joined(separator: ",") + "}"]
        if let first = members.first {
            out.append("{" + (members + [first]).joined(separator: ",") + "}")  // a repeated member
        }
        out.append(text.replacingOccurrences(of: #""id":1,"#, with: #""id":1.0,"#))
        out.append(text.replacingOccurrences(of: #""id":1,"#, with: #""id":1e0,"#))
        out.append(text.replacingOccurrences(of: #""id":1,"#, with: #""id":-0,"#))
        out.append(text.replacingOccurrences(of: #""type":"#, with: #""t\u0079pe":"#))
        out.append(text.replacingOccurrences(of: #""bucket":""#, with: #""bucket":"\u00e9"#))
        return out
    }

    @Test func classifiesTheReferenceRequestsAsTheParserDoes() {
        var frames = 0
        var scanned = 0
        for example in ProtocolReference.load().examples {
            for step in example.steps where step.send {
                for text in Self.variants(step.text) {
                    let bytes = Array(text.utf8)
                    frames += 1
                    if bytes.withUnsafeBytes({ JSON.scanFlatObject($0) }) != nil { scanned += 1 }
                    let (a, b) = (Self.viaParser(bytes), Self.viaScan(bytes))
                    #expect(Self.same(a, b), "\(example.testDescription): \(text)\nparser: \(a)\nscan: \(b)")
                }
            }
        }
        #expect(frames > 500)
        // Most reference requests are flat; the scanner must be the path they take.
        #expect(scanned > frames / 3, "the scanner read \(scanned) of \(frames) frames")
    }
}
