// Pushes to a connection with nothing queued go straight to the socket (WebSocketServer's
// direct write); a frame the kernel takes only part of is finished from the queue.
import Testing

@testable import NoexLoop

@Suite struct DirectPushTests {
    @Test func aPushToAnIdleConnectionIsNeverQueued() throws {
        let server = try ServerThread(testConfig())
        let client = try #require(TestClient(port: server.port))
        #expect(client.handshake())
        client.sendFrame(opcode: 1, payload: Array("push".utf8))
        #expect(client.readFrame()! == (1, [UInt8](repeating: 0x62, count: 1000)))
        client.sendFrame(opcode: 1, payload: Array("push".utf8))
        #expect(client.readFrame()! == (1, [UInt8](repeating: 0x62, count: 1000)))
        client.sendFrame(opcode: 8, payload: [0x03, 0xE8])
        while let frame = client.readFrame(), frame.opcode != 8 {}
        server.stop()
        #expect(server.join() == 0)
        // Only the handshake's 101 answer (well under 1000 bytes) ever sat in the queue.
        let peaks = server.recorder.peaksAfterPush
        #expect(peaks.count == 2)
        #expect(peaks.allSatisfy { $0 >= 0 && $0 < 1000 }, "peaks \(peaks)")
    }

    @Test func aPushTheKernelTakesOnlyPartOfIsFinishedFromTheQueueInOrder() throws {
        // A hard limit far above the flood, so that no push is dropped.
        let limits = WriteQueueLimits(lowWaterBytes: 32 << 20, highWaterBytes: 48 << 20, hardLimitBytes: 64 << 20)
        let server = try ServerThread(testConfig(writeLimits: limits))
        let count = 3000  // ~12 MiB: more than loopback socket buffers hold
        server.recorder.floodCount = count
        let client = try #require(TestClient(port: server.port))
        #expect(client.handshake())
        client.sendFrame(opcode: 1, payload: Array("smallflood".utf8))
        for i in 0..<count {
            let frame = try #require(client.readFrame(), "frame \(i)")
            #expect(frame.opcode == 1)
            #expect(frame.payload == [UInt8](repeating: UInt8(0x61 + i % 26), count: 4000 + i % 97), "frame \(i)")
            if frame.opcode != 1 { break }
        }
        client.sendFrame(opcode: 8, payload: [0x03, 0xE8])
        #expect(client.readCloseCode() == 1000)
        server.stop()
        #expect(server.join() == 0)
        #expect(server.recorder.floodResults == Array(repeating: .queued, count: count))
        // The queue was used: the kernel stopped taking bytes during the burst.
        #expect((server.recorder.peaksAfterPush.first ?? 0) > 1000)
    }

    @Test func aPushInPartsArrivesWholeWhetherWrittenDirectlyInPartOrQueued() throws {
        let limits = WriteQueueLimits(lowWaterBytes: 32 << 20, highWaterBytes: 48 << 20, hardLimitBytes: 64 << 20)
        let server = try ServerThread(testConfig(writeLimits: limits))
        let count = 3000  // ~12 MiB: the kernel takes some whole, one in part, the rest are queued
        server.recorder.floodCount = count
        let client = try #require(TestClient(port: server.port))
        #expect(client.handshake())
        client.sendFrame(opcode: 1, payload: Array("partsflood".utf8))
        for i in 0..<count {
            let frame = try #require(client.readFrame(), "frame \(i)")
            #expect(frame.opcode == 1 && frame.payload == Recorder.partsPayload(i), "frame \(i)")
            if frame.opcode != 1 || frame.payload != Recorder.partsPayload(i) { break }
        }
        client.sendFrame(opcode: 8, payload: [0x03, 0xE8])
        #expect(client.readCloseCode() == 1000)
        server.stop()
        #expect(server.join() == 0)
        #expect(server.recorder.floodResults == Array(repeating: .queued, count: count))
        #expect((server.recorder.peaksAfterPush.first ?? 0) > 1000)
    }

    /// The queue's copy of a frame in parts, whole or from any byte on (the rest of a frame
    /// the kernel took part of), is the frame of the joined payload from that byte on.
    @Test func aFrameInPartsIsCopiedAsTheJoinedFrameFromEveryOffset() {
        for (sizes, label) in [([3, 5, 1], "small"), ([0, 130, 0], "one part"), ([40, 500, 1], "over the stack size"),
                               ([70, 65_500, 1], "16-bit length"), ([1, 0, 0], "head only")] {
            let total = sizes.reduce(0, +)
            let payload = (0..<total).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
            payload.withUnsafeBytes { p in
                let a = sizes[0], b = sizes[0] + sizes[1]
                let parts = FrameParts(head: UnsafeRawBufferPointer(rebasing: p[0..<a]),
                                       body: UnsafeRawBufferPointer(rebasing: p[a..<b]),
                                       tail: UnsafeRawBufferPointer(rebasing: p[b...]))
                #expect(parts.joined() == payload, "\(label)")
                var whole: [UInt8] = [], fromParts: [UInt8] = []
                WebSocketFrameEncoder.appendFrame(opcode: .text, payload: p, to: &whole)
                WebSocketFrameEncoder.appendFrame(opcode: .text, parts: parts, to: &fromParts)
                #expect(fromParts == whole, "\(label)")
                let step = total > 1000 ? 997 : 1  // every offset of the small ones
                for skip in stride(from: 0, through: total, by: step) {
                    var rest: [UInt8] = []
                    parts.append(from: skip, to: &rest)
                    #expect(rest == Array(payload[skip...]), "\(label) from \(skip)")
                }
            }
        }
    }

    @Test func aCoalescingPushNeverReplacesTheRestOfAPartlyWrittenOne() throws {
        let server = try ServerThread(testConfig())
        let count = 3000  // ~12 MiB offered; the queue keeps one pending push for the key
        server.recorder.floodCount = count
        let client = try #require(TestClient(port: server.port))
        #expect(client.handshake())
        client.sendFrame(opcode: 1, payload: Array("coalesceflood".utf8))
        // What arrives: the pushes the kernel took (whole or, for the last of them, finished
        // from the queue), then the newest one. Every frame is whole and they only go forward.
        var last = -1
        while last < count - 1 {
            let frame = try #require(client.readFrame(), "after push \(last)")
            #expect(frame.opcode == 1)
            let index = frame.payload.prefix(4).reduce(0) { $0 << 8 | Int($1) }
            var expected = [UInt8](repeating: UInt8(0x61 + index % 26), count: 4000 + index % 97)
            withUnsafeBytes(of: UInt32(index).bigEndian) { expected.replaceSubrange(0..<4, with: $0) }
            #expect(index > last && frame.payload == expected, "push \(index) after \(last)")
            guard index > last, frame.payload == expected else { break }
            last = index
        }
        client.sendFrame(opcode: 8, payload: [0x03, 0xE8])
        #expect(client.readCloseCode() == 1000)
        server.stop()
        #expect(server.join() == 0)
        #expect(server.recorder.floodResults.contains(.coalesced))
    }
}
