import Testing
@testable import LoadgenCore

/// A server frame (unmasked) as a test would write it by hand.
func serverFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
    var out: [UInt8] = [(fin ? 0x80 : 0) | opcode]
    if payload.count < 126 {
        out.append(UInt8(payload.count))
    } else if payload.count <= 0xFFFF {
        out += [126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
    } else {
        out.append(127)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: payload.count >> shift)) }
    }
    return out + payload
}

/// What the parser reported, copied out of the callback.
enum Seen: Equatable {
    case message(Opcode, [UInt8]), ping([UInt8]), pong, close(UInt16?)
}

func parse(_ chunks: [[UInt8]], parser: inout ServerFrameParser) -> (events: [Seen], error: FrameError?) {
    var seen: [Seen] = []
    for chunk in chunks {
        let error = chunk.withUnsafeBytes { bytes in
            parser.feed(bytes) { event in
                switch event {
                case .message(let op, let p): seen.append(.message(op, Array(p)))
                case .ping(let p): seen.append(.ping(Array(p)))
                case .pong: seen.append(.pong)
                case .close(let code): seen.append(.close(code))
                }
            }
        }
        if let error { return (seen, error) }
    }
    return (seen, nil)
}

func parse(_ chunks: [[UInt8]]) -> (events: [Seen], error: FrameError?) {
    var parser = ServerFrameParser()
    return parse(chunks, parser: &parser)
}

@Suite struct MaskedFrameWriterTests {
    @Test(arguments: [0, 1, 7, 8, 9, 20, 125, 126, 1000, 65535, 65536, 70_001])
    func headerLengthAndMaskingRoundTrip(size: Int) {
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let key: UInt32 = 0xA1B2_C3D4
        var out: [UInt8] = [0xEE]  // frames are appended after existing bytes
        payload.withUnsafeBytes { MaskedFrameWriter.append(opcode: .binary, payload: $0, maskKey: key, to: &out) }
        #expect(out[0] == 0xEE)
        var frame = Array(out.dropFirst())
        #expect(frame[0] == 0x82)
        #expect(frame[1] & 0x80 == 0x80, "client frames carry the mask bit")
        let lengthField = Int(frame[1] & 0x7F)
        var headerLength = 2
        var length = lengthField
        if lengthField == 126 {
            headerLength = 4; length = Int(frame[2]) << 8 | Int(frame[3])
            #expect(size >= 126 && size <= 0xFFFF)
        } else if lengthField == 127 {
            headerLength = 10; length = (2..<10).reduce(0) { $0 << 8 | Int(frame[$1]) }
            #expect(size > 0xFFFF)
        } else {
            #expect(size < 126)
        }
        #expect(length == size)
        let keyBytes = Array(frame[headerLength..<headerLength + 4])
        #expect(keyBytes == withUnsafeBytes(of: key) { Array($0) })
        let body = headerLength + 4
        #expect(frame.count == body + size)
        // Unmask byte by byte, the way RFC 6455 §5.3 defines it.
        for i in 0..<size { frame[body + i] ^= keyBytes[i % 4] }
        #expect(Array(frame[body...]) == payload)
    }

    @Test func maskIsItsOwnInverseAtEveryLength() {
        for size in 0..<40 {
            let original = (0..<size).map { UInt8($0) }
            var bytes = original
            bytes.withUnsafeMutableBytes { MaskedFrameWriter.mask($0, key: 0x0102_0304) }
            if size > 0 { #expect(bytes != original) }
            bytes.withUnsafeMutableBytes { MaskedFrameWriter.mask($0, key: 0x0102_0304) }
            #expect(bytes == original)
        }
    }

    @Test func maskKeysChangeAndAreNeverZero() {
        var random = FastRandom(seed: 0)
        var keys = Set<UInt32>()
        for _ in 0..<1000 {
            let key = random.nextMaskKey()
            #expect(key != 0)
            keys.insert(key)
        }
        #expect(keys.count > 990)
    }
}

@Suite struct ServerFrameParserTests {
    @Test func parsesBackToBackFramesOfEveryLengthForm() {
        let big = [UInt8](repeating: 7, count: 70_000)
        let mid = [UInt8](repeating: 9, count: 300)
        let stream = serverFrame(0x1, Array("hi".utf8)) + serverFrame(0x2, mid) + serverFrame(0x2, big) + serverFrame(0x1, [])
        let result = parse([stream])
        #expect(result.error == nil)
        #expect(result.events == [.message(.text, Array("hi".utf8)), .message(.binary, mid), .message(.binary, big), .message(.text, [])])
    }

    @Test func reassemblesFramesSplitAtEveryByte() {
        let payload = (0..<200).map { UInt8($0) }
        let stream = serverFrame(0x2, payload) + serverFrame(0x9, [1, 2]) + serverFrame(0x1, Array("abc".utf8))
        let expected: [Seen] = [.message(.binary, payload), .ping([1, 2]), .message(.text, Array("abc".utf8))]
        // Every split point, and byte-at-a-time delivery.
        for cut in 0...stream.count {
            #expect(parse([Array(stream[..<cut]), Array(stream[cut...])]).events == expected, "cut at \(cut)")
        }
        #expect(parse(stream.map { [$0] }).events == expected)
    }

    @Test func joinsFragmentsAroundInterleavedControlFrames() {
        let stream = serverFrame(0x1, Array("hel".utf8), fin: false) + serverFrame(0x9, [])
            + serverFrame(0x0, Array("lo".utf8), fin: false) + serverFrame(0x0, Array("!".utf8))
        #expect(parse([stream]).events == [.ping([]), .message(.text, Array("hello!".utf8))])
    }

    @Test func reportsCloseCodesAndPongs() {
        let stream = serverFrame(0xA, [5]) + serverFrame(0x8, [0x03, 0xE8, 0x62, 0x79]) + serverFrame(0x8, [])
        #expect(parse([stream]).events == [.pong, .close(1000), .close(nil)])
    }

    @Test func rejectsWhatAServerMustNotSend() {
        let cases: [([UInt8], FrameError)] = [
            ([0x81, 0x82, 1, 2, 3, 4, 0, 0], .maskedServerFrame),
            ([0xC1, 0x00], .reservedBitsSet),
            ([0x83, 0x00], .unknownOpcode(3)),
            ([0x09, 0x00], .fragmentedControlFrame),
            (serverFrame(0x9, [UInt8](repeating: 0, count: 126)), .controlFrameTooLong),
            (serverFrame(0x0, [1]), .unexpectedContinuation),
            (serverFrame(0x1, [1], fin: false) + serverFrame(0x1, [2]), .interleavedDataFrame),
        ]
        for (bytes, expected) in cases {
            #expect(parse([bytes]).error == expected)
        }
    }

    @Test func enforcesTheMessageSizeLimitAcrossFragments() {
        var parser = ServerFrameParser(maxMessageSize: 10)
        #expect(parse([serverFrame(0x2, [UInt8](repeating: 0, count: 11))], parser: &parser).error == .messageTooLarge)
        parser = ServerFrameParser(maxMessageSize: 10)
        let fragmented = serverFrame(0x2, [UInt8](repeating: 0, count: 6), fin: false) + serverFrame(0x0, [UInt8](repeating: 0, count: 6))
        #expect(parse([fragmented], parser: &parser).error == .messageTooLarge)
        // A huge 64-bit length is refused from its header, before any payload arrives.
        parser = ServerFrameParser(maxMessageSize: 10)
        #expect(parse([[0x82, 127, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]], parser: &parser).error == .messageTooLarge)
    }

    @Test func parsesWhatTheWriterProducesOnceUnmasked() {
        let payload = Array("twenty bytes payload".utf8)
        var out: [UInt8] = []
        payload.withUnsafeBytes { MaskedFrameWriter.append(opcode: .text, payload: $0, maskKey: 0xDEAD_BEEF, to: &out) }
        // Turn the client frame into the server's echo: clear the mask bit, drop the key, unmask.
        let key = Array(out[2..<6])
        let body = out[6...].enumerated().map { $0.element ^ key[$0.offset % 4] }
        #expect(parse([[out[0], out[1] & 0x7F] + body]).events == [.message(.text, payload)])
    }
}
