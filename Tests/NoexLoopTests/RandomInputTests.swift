// Bounded random-input checks: whatever a client sends, the parsers return values (events,
// failures, rejections) and never trap or leave input unconsumed.
import NoexJSON
import Testing

@testable import NoexLoop

/// Splits `bytes` into random chunks.
private func randomChunks(_ bytes: [UInt8], _ rng: inout SeededRandom) -> [[UInt8]] {
    var chunks: [[UInt8]] = []
    var i = 0
    while i < bytes.count {
        let n = Int.random(in: 1...max(1, min(40, bytes.count - i)), using: &rng)
        chunks.append(Array(bytes[i..<i + n]))
        i += n
    }
    return chunks
}

@Suite struct RandomInputTests {
    @Test func decoderSurvivesMutatedAndRandomFrames() {
        var rng = SeededRandom(seed: 42)
        let seeds: [[UInt8]] = [
            clientFrame(opcode: 1, payload: Array("hello world".utf8)),
            clientFrame(opcode: 1, payload: Array("frag".utf8), fin: false) + clientFrame(opcode: 0, payload: Array("ment".utf8)),
            clientFrame(opcode: 9, payload: [1, 2, 3]) + clientFrame(opcode: 8, payload: [0x03, 0xE8, 0x61]),
            clientFrame(opcode: 2, payload: [UInt8](repeating: 7, count: 300)),
        ]
        let config = WebSocketDecoderConfig(maxMessageBytes: 4096)
        for round in 0..<3000 {
            var input: [UInt8]
            if round % 3 == 0 {
                input = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                input = seeds[round % seeds.count]
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    input[Int.random(in: 0..<input.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            let whole = decodeAll([input], config: config)
            let split = decodeAll(randomChunks(input, &rng), config: config)
            // The split never changes the outcome, and nothing follows a failure.
            #expect(whole == split, "round \(round): \(input)")
            if let f = whole.firstIndex(where: { if case .failure = $0 { return true } else { return false } }) {
                #expect(f == whole.count - 1)
            }
            if whole != split { return }
        }
    }

    @Test func upgradeParserSurvivesRandomHeads() {
        var rng = SeededRandom(seed: 7)
        let valid = Array(("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8)
        for round in 0..<2000 {
            var input = valid
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                input[Int.random(in: 0..<input.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            var parser = HTTPUpgradeParser(maxHeaderBytes: 256)
            var result = HTTPUpgradeParser.Result.needMore
            for chunk in randomChunks(input, &rng) {
                result = chunk.withUnsafeBytes { parser.feed($0) }
                if result != .needMore { break }
            }
            // A head ends exactly at the first CRLF CRLF: before it the parser waits, at it it
            // decides (and the head is far below the cap).
            let terminated = input.firstRange(of: [13, 10, 13, 10]) != nil
            #expect((result != .needMore) == terminated, "round \(round)")
            if case .complete(let head, let consumed) = result {
                #expect(consumed > 0)
                // Validation of whatever parsed also returns a value.
                _ = HTTPUpgradeValidator.validate(head, config: HTTPUpgradeConfig())
            }
        }
    }
}
