// Messages handed over borrowed: a whole frame in the input is unmasked in place and delivered
// as a view into it; everything else is joined into an owned array. Both must carry exactly the
// client's bytes however the stream is cut, in the decoder and over a real socket.
import Glibc
import Testing

@testable import NoexLoop

@Suite struct BorrowedMessageTests {
    /// Decodes one chunk with `decoder` and returns its events, the in-place ones as the offset
    /// of their view in the chunk plus its bytes.
    typealias Event = (inPlaceAt: Int?, opcode: WebSocketOpcode?, bytes: [UInt8], inbound: WebSocketInbound?)

    private func events(_ decoder: inout WebSocketFrameDecoder, _ chunk: [UInt8]) -> [Event] {
        var chunk = chunk
        var out: [Event] = []
        chunk.withUnsafeMutableBytes { buf in
            var offset = 0
            while let event = decoder.nextEvent(buf, consumed: &offset, config: .init()) {
                switch event {
                case .inPlace(let opcode, let view):
                    let at = view.baseAddress.map { UnsafeRawPointer(buf.baseAddress!).distance(to: $0) } ?? -1
                    out.append((inPlaceAt: at, opcode: opcode, bytes: Array(view), inbound: nil))
                case .inbound(let inbound):
                    out.append((inPlaceAt: nil, opcode: nil, bytes: [], inbound: inbound))
                }
            }
        }
        return out
    }

    @Test func aWholeFrameIsHandedOverInPlaceAndASplitOneOwned() {
        let first = clientFrame(opcode: 1, payload: Array("hello".utf8))
        let second = clientFrame(opcode: 2, payload: [0, 0xFF, 7])
        let third = clientFrame(opcode: 1, payload: Array("split".utf8))
        var decoder = WebSocketFrameDecoder()
        let got = events(&decoder, first + second + Array(third[..<8]))
        #expect(got.count == 2)
        // The views point at the payloads inside the chunk (after each 6-byte header): no copy.
        #expect(got[0].inPlaceAt == 6 && got[0].opcode == .text && got[0].bytes == Array("hello".utf8))
        #expect(got[1].inPlaceAt == first.count + 6 && got[1].opcode == .binary && got[1].bytes == [0, 0xFF, 7])
        // Cut inside the payload: joined in the decoder's own buffer.
        let rest = events(&decoder, Array(third[8...]))
        #expect(rest.count == 1 && rest[0].inbound == .text(Array("split".utf8)))
        // Cut inside the header: the payload still lies whole in the second chunk, in place.
        #expect(events(&decoder, Array(third[..<4])).isEmpty)
        let tail = events(&decoder, Array(third[4...]))
        #expect(tail.count == 1 && tail[0].inPlaceAt == 2 && tail[0].bytes == Array("split".utf8))
    }

    @Test func textInPlaceIsValidatedUnlessItIsAllASCII() {
        var decoder = WebSocketFrameDecoder()
        let accented = Array("café, 日本, 🎉 and more ASCII after".utf8)
        #expect(events(&decoder, clientFrame(opcode: 1, payload: accented)).map(\.bytes) == [accented])
        // An invalid sequence at every position of a 20-byte message: found in place as well.
        for at in 0..<19 {
            var payload = [UInt8](repeating: 0x61, count: 20)
            payload[at] = 0xC0
            payload[at + 1] = 0xAF
            var fresh = WebSocketFrameDecoder()
            let got = events(&fresh, clientFrame(opcode: 1, payload: payload))
            #expect(got.count == 1 && got[0].inbound == .failure(.invalidUTF8), "at \(at)")
        }
        // A message that ends inside a character is not valid either.
        var fresh = WebSocketFrameDecoder()
        let cut = events(&fresh, clientFrame(opcode: 1, payload: Array("ab".utf8) + [0xE6, 0x97]))
        #expect(cut.count == 1 && cut[0].inbound == .failure(.invalidUTF8))
    }

    @Test func unmaskingInPlaceMatchesTheByteByByteDefinitionForEveryLengthAndKey() {
        var random = SystemRandomNumberGenerator()
        for length in 0..<70 {
            for _ in 0..<8 {
                let key = (0..<4).map { _ in UInt8.random(in: 0...255, using: &random) }
                let payload = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
                var decoder = WebSocketFrameDecoder()
                let got = events(&decoder, clientFrame(opcode: 2, payload: payload, maskKey: key))
                #expect(got.count == 1 && got[0].bytes == payload, "length \(length) key \(key)")
            }
        }
    }

    @Test func everySplitOfPipelinedMessagesDecodesTheSame() {
        // A whole message, then one whose cut moves over every byte, then a fragmented one.
        let wire = clientFrame(opcode: 1, payload: Array("first é".utf8))
            + clientFrame(opcode: 2, payload: [UInt8](repeating: 0x80, count: 130))
            + clientFrame(opcode: 1, payload: Array("frag".utf8), fin: false)
            + clientFrame(opcode: 0, payload: Array("ment".utf8))
        let expected: [WebSocketInbound] = [
            .text(Array("first é".utf8)), .binary([UInt8](repeating: 0x80, count: 130)), .text(Array("fragment".utf8)),
        ]
        for split in everySplit(wire) {
            #expect(decodeAll(split) == expected, "split \(split.map(\.count))")
        }
    }

    // MARK: - Over a socket

    /// Text with multi-byte characters (7-bit length) and binary with a 16-bit length.
    static let messages: [(UInt8, [UInt8])] = [
        (1, Array("héllo, wörld: ✓ 🎉".utf8)),
        (2, (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }),
    ]

    @Test func messagesSplitAtEveryByteBoundaryArriveIntact() throws {
        let server = try ServerThread(testConfig())
        let client = try #require(TestClient(port: server.port))
        #expect(client.handshake())
        let warmUp = clientFrame(opcode: 1, payload: Array("whole".utf8))
        for (opcode, payload) in Self.messages {
            let frame = clientFrame(opcode: opcode, payload: payload)
            for cut in 1..<frame.count {
                // A whole message and the head of the next in one write, the tail in another:
                // the first is handed over in place, the second joined across the reads (when
                // the kernel delivers the writes apart; the echo must be exact either way).
                client.send(warmUp + Array(frame[..<cut]))
                usleep(200)
                client.send(Array(frame[cut...]))
                let echoedWhole = client.readFrame()
                let echoed = client.readFrame()
                #expect(echoedWhole?.opcode == 1 && echoedWhole?.payload == Array("whole".utf8), "cut \(cut)")
                #expect(echoed?.opcode == opcode && echoed?.payload == payload, "cut \(cut) of \(frame.count)")
                if echoed?.payload != payload { break }
            }
        }
        server.stop()
        #expect(client.readCloseCode() == 1001)
        #expect(server.join() == 0)
    }

    @Test func fragmentedLargeAndBurstMessagesArriveIntact() throws {
        let server = try ServerThread(testConfig())
        let client = try #require(TestClient(port: server.port))
        #expect(client.handshake())
        // Fragments in separate writes, a ping between them.
        client.sendFrame(opcode: 1, payload: Array("fr".utf8), fin: false)
        client.sendFrame(opcode: 9, payload: [1, 2])
        client.sendFrame(opcode: 0, payload: Array("ag ✓".utf8), fin: false)
        client.sendFrame(opcode: 0, payload: Array("!".utf8))
        #expect(client.readFrame()! == (0xA, [1, 2]))
        #expect(client.readFrame()! == (1, Array("frag ✓!".utf8)))
        // Larger than the server's 64 KiB read buffer: always read in more than one piece.
        let large = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 5) }
        client.sendFrame(opcode: 2, payload: large)
        #expect(client.readFrame()! == (2, large))
        // A burst of messages of every size from 0 to 299 in one write (about 50 KiB): most are
        // handed over in place, the ones cut by a read boundary joined; all in order.
        let burst = (0..<300).map { n in (0..<n).map { UInt8(truncatingIfNeeded: $0 &+ n) } }
        client.send(burst.flatMap { clientFrame(opcode: 2, payload: $0) })
        for (n, payload) in burst.enumerated() {
            let echoed = client.readFrame()
            #expect(echoed?.opcode == 2 && echoed?.payload == payload, "burst message \(n)")
            if echoed?.payload != payload { break }
        }
        server.stop()
        #expect(client.readCloseCode() == 1001)
        #expect(server.join() == 0)
    }
}
