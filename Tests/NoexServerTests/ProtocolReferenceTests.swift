import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// Keeps docs/protocol.md honest: the operations it documents are exactly the ones the router
/// knows, and every example exchange in it replays byte for byte against a real server on
/// 127.0.0.1 port 0.
@Suite struct ProtocolReferenceTests {
    @Test func everyKnownOperationIsDocumentedAndEveryDocumentedOneIsKnown() {
        let named = ProtocolReference.operationsNamedInHeadings()
        let known = Set(KnownOperations.all)
        #expect(known.subtracting(named).sorted() == [], "known to the router, missing from the reference")
        #expect(named.subtracting(known).sorted() == [], "in the reference, unknown to the router")
        #expect(KnownOperations.all.count == known.count, "listed twice")
    }

    /// The list matches routing: each known op gets an answer other than UNKNOWN_OPERATION (from a
    /// server with auth, rules, the audit log and the demo schema); neighbours that are not in the
    /// list do.
    @Test func routingKnowsExactlyTheListedOperations() throws {
        let server = ServerThread {
            var config = try! LaunchPlan.resolve(CommandLineOptions(), file: nil).prepare()
            config.auth = AuthConfig(required: false) { _ in nil }
            config.audit = AuditConfig()
            return config
        }
        defer { server.stop() }
        let c = try WireStoreClient(server)
        for op in KnownOperations.all where !op.hasPrefix("identity.") {
            let answer = c.ask(["type": .string(op)])
            #expect(answer["code"] != "UNKNOWN_OPERATION", "\(op): \(answer.jsonString)")
            #expect(answer["type"] == "result" || answer["type"] == "error", "\(op): \(answer.jsonString)")
        }
        let unknown = ["store.frobnicate", "rules.frobnicate", "auth.frobnicate", "server.frobnicate", "frobnicate",
                       "ping", "identity.login", "audit.frobnicate", "procedures.frobnicate"]
        for op in unknown {
            #expect(c.ask(["type": .string(op)])["code"] == "UNKNOWN_OPERATION", "\(op)")
        }
        for prefix in KnownOperations.notConfigured where prefix != "audit." {  // this server has an audit log
            #expect(c.ask(["type": .string(prefix + "anything")])["message"]?.stringValue?.hasSuffix("is not configured") == true)
        }
    }

    /// The identity operations are known to a server with built-in identity.
    @Test func builtInIdentityKnowsItsOperations() throws {
        let server = identityServer()
        defer { server.stop() }
        let c = try WireStoreClient(server)
        c.loginAsSuperadmin()
        for op in KnownOperations.identity where op != "identity.logout" {
            let answer = c.ask(["type": .string(op)])
            #expect(answer["code"] != "UNKNOWN_OPERATION", "\(op): \(answer.jsonString)")
        }
        #expect(c.ask(["type": "identity.frobnicate"])["code"] == "UNKNOWN_OPERATION")
    }

    @Test func everyFrameBlockIsReplayed() {
        let reference = ProtocolReference.load()
        #expect(reference.untaggedFrameBlocks == [], "blocks with → / ← lines must be tagged `replay`")
        #expect(reference.examples.count >= 20, "the reference lost its examples")
    }

    /// The replay's matcher accepts only what a placeholder promises, keeps names consistent and
    /// still compares everything else exactly.
    @Test func placeholdersBindStrictly() throws {
        func check(_ expected: String, _ actual: String, _ bindings: inout [String: JSON]) -> Bool {
            let e = try! JSON.parse(expected), a = try! JSON.parse(actual)
            guard ExamplePlaceholder.bind(e, a, &bindings) == nil else { return false }
            return ExamplePlaceholder.substitute(e, a, bindings).jsonString == actual
        }
        var b: [String: JSON] = [:]
        let uuid = "0ff46101-aed9-4a70-b1c6-95886f4ffcca"
        #expect(check(#"{"id":"<uuid:u>","t":"<ts>"}"#, #"{"id":"\#(uuid)","t":1795727215924}"#, &b))
        #expect(b["u"] == .string(uuid))
        #expect(!check(#"{"id":"<uuid:u>"}"#, #"{"id":"another"}"#, &b))
        #expect(!check(#"{"t":"<ts>"}"#, #"{"t":12}"#, &b))
        #expect(!check(#"{"a":1,"b":"<any>"}"#, #"{"b":2,"a":1}"#, &b), "key order counts")
        #expect(!check(#"{"a":1}"#, #"{"a":1,"extra":true}"#, &b), "extra keys count")
        #expect(!check(#"{"s":"<str>"}"#, #"{"s":""}"#, &b))
        #expect(ExamplePlaceholder.fill(#"{"key":"<uuid:u>","x":"<str:none>"}"#, b).unbound == "<str:none>")
        #expect(ExamplePlaceholder.fill(#"{"key":"<uuid:u>"}"#, b).text == #"{"key":"\#(uuid)"}"#)
    }

    @Test(arguments: ProtocolReference.load().examples)
    func exampleReplays(_ example: ProtocolReference.Example) throws {
        #expect(!example.steps.isEmpty, "an example without frames")
        var path = "/"
        if let text = example.config {
            let json = try JSON.parse(text)
            let file = try FileConfig.decode(json)
            _ = try LaunchPlan.resolve(CommandLineOptions(), file: file)
            path = json["path"]?.stringValue ?? "/"
        }
        let configText = example.config
        let server = ServerThread {
            let file = configText.map { try! FileConfig.decode(try! JSON.parse($0)) }
            return try! LaunchPlan.resolve(CommandLineOptions(), file: file).prepare()
        }
        defer { server.stop() }
        try ExampleReplay(example: example, port: server.port, path: path).run()
    }
}

/// Plays one example: sends each `→` frame, reads each `←` frame from its connection and
/// compares it exactly after the placeholders were bound.
struct ExampleReplay {
    let example: ProtocolReference.Example
    let port: Int
    let path: String

    func run() throws {
        var clients: [String: WebSocketTestClient] = [:]
        var bindings: [String: JSON] = [:]
        for step in example.steps {
            let at = "\(example.file):\(step.line)"
            if clients[step.connection] == nil {
                let client = try #require(WebSocketTestClient(port: port, path: path), "\(at): connect")
                #expect(client.upgraded, "\(at): \(client.statusLine)")
                clients[step.connection] = client
            }
            let client = clients[step.connection]!
            if step.send {
                let (text, unbound) = ExamplePlaceholder.fill(step.text, bindings)
                #expect(unbound == nil, "\(at): \(unbound ?? "") is not bound by an earlier frame")
                client.sendText(text)
                continue
            }
            if step.text.hasPrefix("close ") {
                let words = step.text.split(separator: " ", maxSplits: 2).map(String.init)
                let got = nextFrame(client, expectingType: nil)
                #expect(got == .close(code: UInt16(words[1]), reason: words.count > 2 ? words[2] : ""), "\(at)")
                continue
            }
            let expected = try #require(try? JSON.parse(step.text), "\(at): the expected frame is not JSON")
            let frame = nextFrame(client, expectingType: expected["type"]?.stringValue)
            guard case .text(let raw) = frame else {
                Issue.record("\(at): expected \(step.text), got \(frame)")
                return
            }
            let actual = try #require(try? JSON.parse(raw), "\(at): the server sent non-JSON \(raw)")
            if let problem = ExamplePlaceholder.bind(expected, actual, &bindings) {
                Issue.record("\(at): \(problem)\n  expected \(step.text)\n  got      \(raw)")
                return
            }
            let filled = ExamplePlaceholder.substitute(expected, actual, bindings).jsonString
            #expect(filled == raw, "\(at)\n  expected \(step.text)\n  got      \(raw)")
        }
    }

    /// The next frame, skipping the welcome and heartbeat pings unless the example expects one.
    private func nextFrame(_ client: WebSocketTestClient, expectingType type: String?) -> WebSocketTestClient.Frame {
        while true {
            let frame = client.next()
            if case .text(let s) = frame, let j = try? JSON.parse(s), let t = j["type"]?.stringValue,
               t == "welcome" || t == "ping", t != type {
                continue
            }
            return frame
        }
    }
}
