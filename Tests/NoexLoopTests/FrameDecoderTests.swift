import Testing

@testable import NoexLoop

/// Decodes `input` at every split and checks that every split yields `expected`.
private func expectDecodes(_ input: [UInt8], _ expected: [WebSocketInbound], config: WebSocketDecoderConfig = .init(),
    sourceLocation: SourceLocation = #_sourceLocation)
{
    for split in everySplit(input) {
        let events = decodeAll(split, config: config)
        #expect(events == expected, "split \(split.map(\.count))", sourceLocation: sourceLocation)
        if events != expected { return }
    }
}

private func failure(_ code: UInt16) -> (WebSocketInbound) -> Bool {
    { if case .failure(let f) = $0 { return f.code == code } else { return false } }
}

@Suite struct FrameDecoderTests {
    @Test func decodesMaskedTextAtEverySplit() {
        expectDecodes(clientFrame(opcode: 1, payload: Array("Hello".utf8)), [.text(Array("Hello".utf8))])
    }

    @Test func decodesRFCExampleMaskedHello() {
        // RFC 6455 §5.7: a single-frame masked text message "Hello".
        expectDecodes([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58], [.text(Array("Hello".utf8))])
    }

    @Test func decodesSixteenAndSixtyFourBitLengths() {
        let medium = [UInt8](repeating: 0x61, count: 300)
        let large = [UInt8](repeating: 0x62, count: 70_000)
        #expect(decodeAll([clientFrame(opcode: 1, payload: medium)]) == [.text(medium)])
        #expect(decodeAll([clientFrame(opcode: 2, payload: large)]) == [.binary(large)])
        // Byte-by-byte too: exercises the header spill and unmasking at every offset.
        #expect(decodeAll(clientFrame(opcode: 2, payload: medium).map { [$0] }) == [.binary(medium)])
    }

    @Test func joinsFragmentsAndPassesInterleavedControlFrames() {
        let input = clientFrame(opcode: 1, payload: Array("Hel".utf8), fin: false)
            + clientFrame(opcode: 9, payload: [1, 2])
            + clientFrame(opcode: 0, payload: Array("lo".utf8), fin: false)
            + clientFrame(opcode: 0, payload: [], fin: true)
        expectDecodes(input, [.ping([1, 2]), .text(Array("Hello".utf8))])
    }

    @Test func decodesEmptyMessagesAndPong() {
        expectDecodes(clientFrame(opcode: 1, payload: []) + clientFrame(opcode: 0xA, payload: [9]),
            [.text([]), .pong([9])])
    }

    @Test func decodesCloseFrames() {
        expectDecodes(clientFrame(opcode: 8, payload: []), [.close(code: nil, reason: [])])
        expectDecodes(clientFrame(opcode: 8, payload: [0x03, 0xE8] + Array("bye".utf8)),
            [.close(code: 1000, reason: Array("bye".utf8))])
        expectDecodes(clientFrame(opcode: 8, payload: [0x0F, 0xA0]), [.close(code: 4000, reason: [])])
    }

    /// Malformed inputs and the close code each must fail with.
    static let malformed: [([UInt8], UInt16)] = [
        (clientFrame(opcode: 1, payload: [0x41], masked: false), 1002),
        (clientFrame(opcode: 1, payload: [0x41], rsv: 4), 1002),
        (clientFrame(opcode: 3, payload: []), 1002),
        (clientFrame(opcode: 0xB, payload: []), 1002),
        (clientFrame(opcode: 9, payload: [], fin: false), 1002),
        (clientFrame(opcode: 9, payload: [UInt8](repeating: 0, count: 126)), 1002),
        (clientFrame(opcode: 0, payload: [0x41]), 1002),
        (clientFrame(opcode: 1, payload: [0x41], fin: false) + clientFrame(opcode: 1, payload: [0x41]), 1002),
        (clientFrame(opcode: 1, payload: [0xC3, 0x28]), 1007),
        (clientFrame(opcode: 1, payload: [0xED, 0xA0, 0x80]), 1007),
        (clientFrame(opcode: 1, payload: [0xE2, 0x82]), 1007),
        (clientFrame(opcode: 8, payload: [0x03]), 1002),
        (clientFrame(opcode: 8, payload: [0x03, 0xED]), 1002),
        (clientFrame(opcode: 8, payload: [0x00, 0x00]), 1002),
        (clientFrame(opcode: 8, payload: [0x03, 0xE8, 0xFF]), 1007),
    ]

    @Test(arguments: FrameDecoderTests.malformed)
    func failsMalformedInputWithTheRightCode(input: [UInt8], code: UInt16) {
        for split in everySplit(input) {
            let events = decodeAll(split)
            #expect(events.count == 1 && failure(code)(events[0]), "\(events) for split \(split.map(\.count))")
        }
    }

    @Test func invalidUTF8FailsBeforeTheMessageEnds() {
        // The first fragment already holds an impossible byte: fail without waiting for FIN.
        let first = clientFrame(opcode: 1, payload: Array("ok".utf8) + [0xFF], fin: false)
        #expect(decodeAll([first]) == [.failure(.invalidUTF8)])
        // Inside a single frame, the bad byte fails as soon as it is read.
        let frame = clientFrame(opcode: 1, payload: [0x61, 0xFF] + [UInt8](repeating: 0x61, count: 200))
        #expect(decodeAll([Array(frame[0..<10])]) == [.failure(.invalidUTF8)])
    }

    @Test func multiByteCharacterSplitAcrossFragmentsIsValid() {
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        let input = clientFrame(opcode: 1, payload: [euro[0]], fin: false)
            + clientFrame(opcode: 0, payload: Array(euro[1...]))
        expectDecodes(input, [.text(euro)])
    }

    @Test func enforcesMaxMessageSizeAtTheHeader() {
        let config = WebSocketDecoderConfig(maxMessageBytes: 10)
        let exact = [UInt8](repeating: 0x61, count: 10)
        expectDecodes(clientFrame(opcode: 1, payload: exact), [.text(exact)], config: config)
        // 11 bytes: only the header is needed to fail.
        let header = Array(clientFrame(opcode: 1, payload: exact + [0x61])[0..<6])
        #expect(decodeAll([header], config: config) == [.failure(.messageTooBig(limit: 10))])
        #expect(WebSocketFailure.messageTooBig(limit: 10).reason == "message larger than the 10-byte limit (server setting maxPayloadBytes)")
        // The limit counts the whole fragmented message.
        let fragmented = clientFrame(opcode: 2, payload: [UInt8](repeating: 1, count: 6), fin: false)
            + clientFrame(opcode: 0, payload: [UInt8](repeating: 1, count: 5))
        #expect(decodeAll([fragmented], config: config) == [.failure(.messageTooBig(limit: 10))])
    }

    @Test func rejectsBinaryWhenConfigured() {
        let config = WebSocketDecoderConfig(rejectBinary: true)
        let events = decodeAll([clientFrame(opcode: 2, payload: [1, 2, 3])], config: config)
        #expect(events == [.failure(WebSocketFailure(code: 1003, reason: "binary_not_supported"))])
    }

    @Test func ignoresInputAfterAFailure() {
        let input = clientFrame(opcode: 1, payload: [0x41], masked: false) + clientFrame(opcode: 1, payload: [0x41])
        #expect(decodeAll([input]).count == 1)
    }
}

@Suite struct FrameEncoderTests {
    @Test func encodesExactHeaders() {
        #expect(WebSocketFrameEncoder.frame(opcode: .text, payload: Array("Hello".utf8))
            == [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        let p126 = [UInt8](repeating: 0, count: 126)
        #expect(Array(WebSocketFrameEncoder.frame(opcode: .binary, payload: p126).prefix(4)) == [0x82, 0x7E, 0x00, 0x7E])
        let p64k = [UInt8](repeating: 0, count: 65_536)
        #expect(Array(WebSocketFrameEncoder.frame(opcode: .binary, payload: p64k).prefix(10))
            == [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])
        #expect(WebSocketFrameEncoder.frame(opcode: .pong, payload: [7]) == [0x8A, 0x01, 0x07])
    }

    @Test func encodesCloseFrames() {
        #expect(WebSocketFrameEncoder.closeFrame(code: 1000) == [0x88, 0x02, 0x03, 0xE8])
        #expect(WebSocketFrameEncoder.closeFrame(code: nil) == [0x88, 0x00])
        #expect(WebSocketFrameEncoder.closeFrame(code: 1009, reason: Array("x".utf8)) == [0x88, 0x03, 0x03, 0xF1, 0x78])
        // A long reason is cut to 123 bytes on a character boundary (125-byte control limit).
        let long = Array(String(repeating: "é", count: 100).utf8)
        let frame = WebSocketFrameEncoder.closeFrame(code: 1000, reason: long)
        #expect(frame[1] <= 125)
        #expect(UTF8Validator.isValid(Array(frame[4...])))
        #expect(frame.count == 2 + 2 + 122)
    }
}
