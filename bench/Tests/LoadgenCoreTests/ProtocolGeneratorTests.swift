import LoadgenCore
import Testing

/// Runs `body` with the UTF-8 bytes of `text`.
private func withBytes<R>(_ text: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    Array(text.utf8).withUnsafeBytes(body)
}

private func scan(_ text: String) -> ProtocolMessage? { withBytes(text) { ProtocolMessage.scan($0) } }

private func request<G: RequestGenerator>(_ generator: inout G, _ sequence: UInt64) -> String {
    var text = ""
    generator.withRequest(sequence: sequence) { text = String(decoding: $0, as: UTF8.self) }
    return text
}

@Suite struct ProtocolMessageTests {
    @Test func readsIdAndTypeInEitherOrder() {
        #expect(scan(#"{"id":7,"type":"result","data":{"id":"x","type":"push"}}"#) == ProtocolMessage(id: 7, kind: .result))
        #expect(scan(#"{"type":"error","code":"NOT_FOUND","id":12}"#) == ProtocolMessage(id: 12, kind: .error))
        #expect(scan(#" { "id" : 3 , "type" : "result" , "data" : null } "#) == ProtocolMessage(id: 3, kind: .result))
    }

    @Test func nestedIdsAndTypesAreNotTheTopLevelOnes() {
        // `data` (a record with its own id/type) comes before the top-level fields here.
        let text = #"{"data":{"id":99,"type":"error","x":[{"id":5}],"s":"}\"{"},"type":"result","id":4}"#
        #expect(scan(text) == ProtocolMessage(id: 4, kind: .result))
    }

    @Test func pushesWelcomeAndPings() {
        #expect(scan(#"{"type":"push","channel":"subscription","subscriptionId":"sub-1","data":3}"#) == ProtocolMessage(id: nil, kind: .push))
        #expect(scan(#"{"type":"welcome","version":"1.0.0","serverTime":1,"requiresAuth":false}"#) == ProtocolMessage(id: nil, kind: .other))
        #expect(scan(#"{"type":"ping","timestamp":1795727215924}"#) == ProtocolMessage(id: nil, kind: .other))
    }

    @Test func nonIntegerIdsAreNotOurs() {
        #expect(scan(#"{"id":"7","type":"result"}"#) == ProtocolMessage(id: nil, kind: .result))
        #expect(scan(#"{"id":null,"type":"error","code":"PARSE_ERROR"}"#) == ProtocolMessage(id: nil, kind: .error))
        #expect(scan(#"{"id":1.5,"type":"result"}"#) == ProtocolMessage(id: nil, kind: .result))
    }

    @Test func malformedInputIsNil() {
        #expect(scan("") == nil)
        #expect(scan("hello") == nil)
        #expect(scan("[1,2]") == nil)
        #expect(scan(#"{"id":1}"#) == nil, "no type")
        #expect(scan(#"{"id":1,"type":"res"#) == nil, "truncated")
        #expect(scan(#"{"type":42,"id":1}"#) == nil, "type is not a string")
    }
}

@Suite struct ResponseMatcherTests {
    private func match(_ m: inout ResponseMatcher, _ text: String, opcode: Opcode = .text) -> ResponseMatcher.Match {
        withBytes(text) { m.match(opcode: opcode, payload: $0) }
    }

    @Test func answersMustComeInIdOrder() {
        var m = ResponseMatcher()
        #expect(match(&m, #"{"type":"welcome","version":"1.0.0"}"#) == .unsolicited)
        #expect(match(&m, #"{"id":1,"type":"result","data":null}"#) == .answer(id: 1, ok: true))
        #expect(match(&m, #"{"id":2,"type":"error","code":"NOT_FOUND","message":"x"}"#) == .answer(id: 2, ok: false))
        #expect(match(&m, #"{"type":"push","channel":"subscription","subscriptionId":"sub-1","data":[]}"#) == .push)
        #expect(m.expectedID == 3)
        // Id 5 while 3 is expected: a mismatch, and matching resumes after 5.
        #expect(match(&m, #"{"id":5,"type":"result","data":1}"#) == .mismatch)
        #expect(match(&m, #"{"id":6,"type":"result","data":1}"#) == .answer(id: 6, ok: true))
        #expect(match(&m, #"{"id":6,"type":"result","data":1}"#) == .mismatch, "a repeated id")
    }

    @Test func errorsWithoutUsableIdAndNonProtocolFrames() {
        var m = ResponseMatcher()
        #expect(match(&m, #"{"id":null,"type":"error","code":"PARSE_ERROR","message":"Invalid JSON"}"#) == .mismatch)
        #expect(match(&m, "not json") == .malformed)
        #expect(match(&m, #"{"id":1,"type":"result"}"#, opcode: .binary) == .malformed)
        #expect(match(&m, #"{"id":1,"type":"system","data":{}}"#) == .mismatch, "an id on a non-answer")
        #expect(ResponseMatcher.id(ofSequence: 0) == 1)
    }
}

@Suite struct ProtocolRequestGeneratorTests {
    @Test func transactionModeInsertsTwoNewRecordsPerRequest() {
        var g = ProtocolRequestGenerator(operation: .transaction, bucket: "bench", run: 7, connection: 1, keys: 2)
        #expect(request(&g, 0) == #"{"id":1,"type":"store.transaction","operations":[{"op":"insert","bucket":"bench","data":{"id":"r7-1-0a","n":0}},{"op":"insert","bucket":"bench","data":{"id":"r7-1-0b","n":0}}]}"#)
        #expect(withBytes(#"{"id":1,"type":"result","data":{}}"#) { g.classify(opcode: .text, payload: $0) } == .answer)
    }

    @Test func getModeInsertsItsKeysFirstThenReadsThemRoundRobin() {
        var g = ProtocolRequestGenerator(operation: .get, bucket: "bench", run: 42, connection: 3, keys: 2)
        #expect(request(&g, 0) == #"{"id":1,"type":"store.insert","bucket":"bench","data":{"id":"r42-3-0","n":0}}"#)
        #expect(request(&g, 1) == #"{"id":2,"type":"store.insert","bucket":"bench","data":{"id":"r42-3-1","n":1}}"#)
        #expect(request(&g, 2) == #"{"id":3,"type":"store.get","bucket":"bench","key":"r42-3-0"}"#)
        #expect(request(&g, 3) == #"{"id":4,"type":"store.get","bucket":"bench","key":"r42-3-1"}"#)
        #expect(request(&g, 4) == #"{"id":5,"type":"store.get","bucket":"bench","key":"r42-3-0"}"#)
    }

    @Test func getModeClassifiesSetupThenTimedAnswers() {
        var g = ProtocolRequestGenerator(operation: .get, bucket: "bench", run: 1, connection: 0, keys: 2)
        func classify(_ text: String) -> Reply { withBytes(text) { g.classify(opcode: .text, payload: $0) } }
        #expect(classify(#"{"type":"welcome","version":"1.0.0"}"#) == .unsolicited)
        #expect(classify(#"{"id":1,"type":"result","data":{"id":"r1-0-0"}}"#) == .setup(ok: true))
        #expect(classify(#"{"id":2,"type":"error","code":"ALREADY_EXISTS","message":"m"}"#) == .setup(ok: false))
        #expect(classify(#"{"id":3,"type":"result","data":{"id":"r1-0-0","n":0}}"#) == .answer)
        #expect(classify(#"{"id":4,"type":"error","code":"NOT_FOUND","message":"m"}"#) == .wrongAnswer)
        #expect(classify(#"{"id":9,"type":"result","data":null}"#) == .wrongAnswer, "out of order")
        #expect(classify(#"{"type":"push","channel":"subscription","subscriptionId":"s","data":1}"#) == .push)
    }

    @Test func insertModeUsesAFreshKeyPerSequenceAndConnection() {
        var a = ProtocolRequestGenerator(operation: .insert, bucket: "b", run: 9, connection: 0, keys: 16)
        var b = ProtocolRequestGenerator(operation: .insert, bucket: "b", run: 9, connection: 1, keys: 16)
        #expect(request(&a, 0) == #"{"id":1,"type":"store.insert","bucket":"b","data":{"id":"r9-0-0","n":0}}"#)
        #expect(request(&a, 20) == #"{"id":21,"type":"store.insert","bucket":"b","data":{"id":"r9-0-20","n":20}}"#)
        #expect(request(&b, 20) != request(&a, 20))
        func classify(_ text: String) -> Reply { withBytes(text) { a.classify(opcode: .text, payload: $0) } }
        #expect(classify(#"{"id":1,"type":"result","data":{}}"#) == .answer, "no setup requests in insert mode")
        #expect(classify(#"{"id":2,"type":"error","code":"VALIDATION_ERROR","message":"m"}"#) == .wrongAnswer)
    }

    @Test func fanoutGenerators() {
        var s = SubscriberGenerator(query: "feed-latest")
        #expect(request(&s, 0) == #"{"id":1,"type":"store.subscribe","query":"feed-latest"}"#)
        func sub(_ text: String) -> Reply { withBytes(text) { s.classify(opcode: .text, payload: $0) } }
        #expect(sub(#"{"id":1,"type":"result","data":{"subscriptionId":"sub-1","data":[]}}"#) == .setup(ok: true))
        #expect(sub(#"{"type":"push","channel":"subscription","subscriptionId":"sub-1","data":[{"n":0}]}"#) == .push)
        #expect(sub(#"{"type":"push","channel":"subscription","subscriptionId":"sub-1","data":[{"n":1}]}"#) == .push)

        var s2 = SubscriberGenerator(query: "nope")
        #expect(withBytes(#"{"id":1,"type":"error","code":"QUERY_NOT_DEFINED","message":"m"}"#) {
            s2.classify(opcode: .text, payload: $0)
        } == .setup(ok: false))

        var w = FeedWriterGenerator(bucket: "feed")
        #expect(request(&w, 4) == #"{"id":5,"type":"store.insert","bucket":"feed","data":{"n":4}}"#)
        func write(_ text: String) -> Reply { withBytes(text) { w.classify(opcode: .text, payload: $0) } }
        #expect(write(#"{"id":1,"type":"result","data":{"n":0}}"#) == .answer)
        #expect(write(#"{"id":2,"type":"error","code":"VALIDATION_ERROR","message":"m"}"#) == .wrongAnswer)
    }

    @Test func hostileModeSendsServerConnectionsAndHoldsFiveSecondsByDefault() throws {
        let o = try LoadgenOptions.parse(["--mode", "hostile", "--connections", "100", "--inflight", "2000"])
        #expect(o.mode == .hostile && o.seconds == 5 && o.inflight == 2000)
        #expect(o.generator(run: 1, connection: 3) is HostileGenerator)
        var h = HostileGenerator()
        #expect(request(&h, 0) == #"{"id":1,"type":"server.connections"}"#)
    }
}

@Suite struct ProtocolOptionsAndReportTests {
    @Test func protoAndFanoutFlags() throws {
        let o = try LoadgenOptions.parse(["--mode", "proto", "--op", "insert", "--bucket", "b_1", "--keys", "4", "--port", "1"])
        #expect(o.mode == .proto && o.operation == .insert && o.bucket == "b_1" && o.keys == 4)
        let f = try LoadgenOptions.parse(["--mode", "fanout", "--subscribers", "50", "--query", "q-1"])
        #expect(f.mode == .fanout && f.subscribers == 50 && f.query == "q-1")
        #expect(LoadgenOptions().subscribers == 1000 && LoadgenOptions().operation == .get)
        #expect(throws: OptionsError.invalidValue("--op", "delete", expected: "get or insert")) { try LoadgenOptions.parse(["--op", "delete"]) }
        #expect(throws: OptionsError.invalidValue("--bucket", #"a"b"#, expected: "a name of letters, digits, -, _ and .")) { try LoadgenOptions.parse(["--bucket", #"a"b"#]) }
        #expect(throws: OptionsError.invalidValue("--subscribers", "0", expected: "an integer from 1 to 1000000")) { try LoadgenOptions.parse(["--subscribers", "0"]) }
    }

    @Test func protoAndFanoutFigureNames() {
        var report = EchoReport()
        report.record(latencyNanoseconds: 2_000_000)
        report.elapsedNanoseconds = 1_000_000_000
        report.serverCPUNanoseconds = 3_000
        let lines = report.lines(prefix: "", naming: .proto("get"))
        #expect(lines.first == "proto.get.req_per_s: 1")
        #expect(lines.contains("proto.get.requests: 1") && lines.contains("proto.get.errors: 0"))
        #expect(lines.contains { $0.hasPrefix("proto.get.p50_us: 2000.") })
        #expect(lines.contains("proto.get.server_cpu_us_per_req: 3.000"))

        report.pushes = 4
        let fan = report.fanoutLines(prefix: "x.", subscribers: 4)
        #expect(fan.contains("x.fanout.pushes_per_s: 4"))
        #expect(fan.contains { $0.hasPrefix("x.fanout.insert_to_last_push_p99_us: 2000.") })
        #expect(fan.contains("x.fanout.inserts: 1") && fan.contains("x.fanout.server_cpu_us_per_push: 0.750"))
    }
}
