// The server reads and writes its sockets itself (an epoll set, read/send): writes the kernel
// takes only in part, reading paused with bytes still pending, a peer that resets while a
// write waits for room, a peer that half-closes while reading is paused.
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@testable import NoexLoop

/// Runs `body` on a thread of its own: a client whose blocking send must not stop the test
/// from reading.
final class BackgroundThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: () -> Void

    init(_ body: @escaping () -> Void) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { raw in
            Unmanaged<BackgroundThread>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, context)
    }

    func join() { pthread_join(thread, nil) }
}

@Suite struct SocketDrivingTests {
    /// Payload `i`: its index in the first 4 bytes, then one letter, 6000 + i % 301 bytes long.
    static func payload(_ i: Int) -> [UInt8] {
        var p = [UInt8](repeating: UInt8(0x61 + i % 26), count: 6000 + i % 301)
        withUnsafeBytes(of: UInt32(i).bigEndian) { p.replaceSubrange(0..<4, with: $0) }
        return p
    }

    @Test func echoesPastTheHighWaterMarkArriveCompleteAndInOrder() throws {
        // No answer is ever dropped (responses), and the hard limit is far away.
        let limits = WriteQueueLimits(lowWaterBytes: 16 << 10, highWaterBytes: 64 << 10, hardLimitBytes: 64 << 20)
        let server = try ServerThread(testConfig(writeLimits: limits))
        let client = try #require(TestClient(port: server.port))
        #expect(client.handshake())
        // ~9 MiB of requests: more than the socket buffers of both directions hold, so the
        // server's sends come back short or with EAGAIN, its queue passes the high-water mark,
        // it stops reading with requests still in its buffer, and the sender blocks.
        let count = 1500
        var requests: [UInt8] = []
        for i in 0..<count { requests += clientFrame(opcode: 2, payload: Self.payload(i)) }
        let sender = BackgroundThread { client.send(requests) }
        usleep(300_000)  // the client reads nothing for a while
        for i in 0..<count {
            let frame = try #require(client.readFrame(), "echo \(i)")
            #expect(frame.opcode == 2 && frame.payload == Self.payload(i), "echo \(i)")
            if frame.payload != Self.payload(i) { break }
        }
        sender.join()
        client.sendFrame(opcode: 8, payload: [0x03, 0xE8])
        #expect(client.readCloseCode() == 1000)
        #expect(client.expectEOF())
        server.stop()
        #expect(server.join() == 0)
        // Reading paused at the high-water mark and resumed at the low-water mark.
        let changes = server.recorder.writabilityChanges
        #expect(changes.first == false && changes.last == true, "\(changes)")
        #expect(server.recorder.closed.map(\.1) == [1000])
    }

    @Test func aPeerThatResetsWhileAWriteWaitsForRoomIsClosedAndOthersAreServed() throws {
        let limits = WriteQueueLimits(lowWaterBytes: 64 << 10, highWaterBytes: 256 << 10, hardLimitBytes: 1 << 20)
        let server = try ServerThread(testConfig(writeLimits: limits))
        server.recorder.floodCount = 64  // 4 MiB of responses: the kernel takes only part
        do {
            let client = try #require(TestClient(port: server.port))
            #expect(client.handshake())
            client.sendFrame(opcode: 1, payload: Array("floodresponses".utf8))
            _ = client.readFrame()  // the flood has started
            // Closing with a zero linger time resets the connection (RST, not FIN).
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }  // the client's deinit closes the socket
        let other = try #require(TestClient(port: server.port))
        #expect(other.handshake())
        other.sendFrame(opcode: 1, payload: Array("still here".utf8))
        #expect(other.readFrame().map { $0 == (1, Array("still here".utf8)) } == true)
        other.sendFrame(opcode: 8, payload: [0x03, 0xE8])
        #expect(other.readCloseCode() == 1000)
        #expect(other.expectEOF())
        server.stop()
        #expect(server.join() == 0)
        #expect(server.recorder.floodResults.count == 64)
        // The reset connection ended without a close frame; the other one normally.
        #expect(server.recorder.closed.map(\.1) == [1006, 1000])
    }

    @Test func aHalfCloseWhileReadingIsPausedStillGetsEveryAnswer() throws {
        let limits = WriteQueueLimits(lowWaterBytes: 64 << 10, highWaterBytes: 256 << 10, hardLimitBytes: 1 << 20)
        let server = try ServerThread(testConfig(writeLimits: limits))
        server.recorder.floodCount = 64  // 4 MiB of responses: reading pauses at once
        let client = try #require(TestClient(port: server.port))
        #expect(client.handshake())
        // Both requests in one send: the second is read together with the first and waits,
        // undecoded, until the queue drains; the FIN behind it is seen only then.
        client.send(clientFrame(opcode: 1, payload: Array("floodresponses".utf8))
            + clientFrame(opcode: 1, payload: Array("after the flood".utf8)))
        shutdown(client.fd, Int32(SHUT_WR))
        usleep(100_000)
        for i in 0..<64 {
            let frame = try #require(client.readFrame(), "response \(i)")
            #expect(frame.opcode == 1 && frame.payload.count == 64 << 10)
        }
        #expect(client.readFrame().map { $0 == (1, Array("after the flood".utf8)) } == true)
        // The peer ended without a close frame: what was queued went out, then the FIN.
        #expect(client.expectEOF())
        server.stop()
        #expect(server.join() == 0)
        #expect(server.recorder.writabilityChanges.first == false)
        #expect(server.recorder.closed.map(\.1) == [1006])
    }
}
