import CUV
import Foundation
import NoexJSON
@testable import NoexLoop
import NoexStore
import Synchronization
import Testing
@testable import NoexServer

/// What a loop timer sees of the server's own transport counters. Written on the server's
/// thread, read by the test; the figures are the server's, not timings.
final class TransportProbe: Sendable {
    struct Sample: Sendable {
        /// Largest write-queue size any connection ever had (the queue's own high-water record).
        var peakBufferedBytes = 0
        /// Whether some sample saw a connection with reading paused.
        var sawPausedReading = false
        /// Connections reading right now / open right now.
        var reading = 0
        var open = 0
        /// Pushes the transport dropped, summed over the open connections.
        var droppedPushes = 0
    }

    private let state = Mutex(Sample())

    var sample: Sample { state.withLock { $0 } }

    /// Samples every open connection every 2 ms of loop time.
    func attach(to server: NoexServer) {
        let transport = server.transport
        transport.addTimer(delayMs: 2, repeatMs: 2) { [self] in
            var now = Sample()
            for id in transport.openConnections {
                now.open += 1
                now.peakBufferedBytes = max(now.peakBufferedBytes, transport.peakBufferedBytes(id) ?? 0)
                if transport.isReading(id) == true { now.reading += 1 } else { now.sawPausedReading = true }
                now.droppedPushes += transport.droppedPushes(id) ?? 0
            }
            state.withLock { s in
                s.peakBufferedBytes = max(s.peakBufferedBytes, now.peakBufferedBytes)
                s.sawPausedReading = s.sawPausedReading || now.sawPausedReading
                s.reading = now.reading
                s.open = now.open
                s.droppedPushes = now.droppedPushes
            }
        }
    }

    /// Waits (bounded) until `condition` holds for a sample.
    func wait(seconds: Double = 10, until condition: (Sample) -> Bool) -> Sample {
        let deadline = Date().addingTimeInterval(seconds)
        var s = sample
        while !condition(s) && Date() < deadline {
            usleep(2_000)
            s = sample
        }
        return s
    }
}

/// Lets one writer thread share a test client with the reading test thread (see `sendRaw`).
struct ClientBox: @unchecked Sendable { let client: WebSocketTestClient }

/// A client that pipelines requests and does not read: per-connection memory stays bounded by
/// the hard write limit, the server stops reading it, and it loses nothing once it reads.
@Suite(.serialized) struct HostileClientTests {
    static let hardLimit = 256 << 10

    static func config() -> ServerConfig {
        let store = wireStoreFixture()
        // ~8 KiB per answer: a few hundred unread answers fill the kernel's socket buffers and
        // then the server's queue.
        let big = String(repeating: "x", count: 8_000)
        _ = try! store.insert(bucket: "items", record: ["sku": "big", "name": .string(big)])
        var c = ServerConfig(store: store)
        c.backpressure = BackpressureConfig(maxBufferedBytes: hardLimit, highWaterMark: 0.5)
        return c
    }

    @Test func pipeliningClientThatNeverReadsIsPausedAndBoundedThenGetsEveryAnswerInOrder() throws {
        let probe = TransportProbe()
        let server = ServerThread(makeConfig: { Self.config() }, onStart: { probe.attach(to: $0) })
        defer { server.stop() }
        let ws = try #require(WebSocketTestClient(port: server.port))
        #expect(ws.nextText()?.contains("\"welcome\"") == true)
        let baseline = probe.wait { $0.open == 1 }
        #expect(baseline.reading == 1)

        // 4000 pipelined gets: ~32 MB of answers, far beyond the socket buffers and the limit.
        // They are written from another thread: once the server stops reading, the client's
        // own sends block on its TCP window, as intended.
        let count = 4_000
        var frames: [UInt8] = []
        for i in 1...count {
            frames += WebSocketTestClient.maskedFrame(opcode: 1, Array(#"{"id":\#(i),"type":"store.get","bucket":"items","key":"big"}"#.utf8))
        }
        let writer = Thread { [box = ClientBox(client: ws), frames] in box.client.sendRaw(frames) }
        writer.start()

        let paused = probe.wait { $0.sawPausedReading }
        #expect(paused.sawPausedReading, "the server never stopped reading the client")
        #expect(paused.reading == 0)
        let answerBytes = ServerMessage.resultBytes(id: .int(Int64(count)), data: .null).count + 8_200
        #expect(paused.peakBufferedBytes > Self.hardLimit / 2, "the queue never reached its high-water mark")
        #expect(paused.peakBufferedBytes <= Self.hardLimit + answerBytes)
        // /metrics shows the paused connection (the scrape's own connection is read as usual).
        let whilePaused = try Exposition(parsing: try #require(curl(port: server.port, "/metrics")).body)
        #expect(whilePaused["noex_connections_reading_paused"] == 1)

        // The client starts reading: every answer arrives, in order, none replaced by BACKPRESSURE.
        var ids: [Int64] = []
        while ids.count < count, let text = ws.nextText() {
            let answer = WireStoreClient.parse(text)
            #expect(answer["type"] == "result")
            if ids.count < 3 || ids.count == count - 1 {
                #expect(answer["data"]?["name"]?.stringValue?.count == 8_000)
            }
            ids.append(answer["id"]?.intValue ?? -1)
        }
        #expect(ids == Array(1...Int64(count)))
        let end = probe.wait { $0.reading == 1 }
        #expect(end.reading == 1, "reading did not resume")
        let resumed = try Exposition(parsing: try #require(curl(port: server.port, "/metrics")).body)
        #expect(resumed["noex_connections_reading_paused"] == 0)
        #expect(end.peakBufferedBytes <= Self.hardLimit + answerBytes)
    }

    @Test func subscriberThatDoesNotReadLosesIntermediateResultsButGetsTheLatest() throws {
        let probe = TransportProbe()
        let server = ServerThread(makeConfig: { Self.config() }, onStart: { probe.attach(to: $0) })
        defer { server.stop() }
        let subscriber = try WireStoreClient(server)
        let sub = subscriber.data(["type": "store.subscribe", "query": "all-items"])
        #expect(sub["data"]?.arrayValue?.count == 1)
        // The subscriber stops reading. Each insert changes the result (8 KB more each time):
        // ~26 MB of pushes in all, the last ones larger than the hard limit by themselves.
        let writer = try WireStoreClient(server)
        let inserts = 80
        let name = String(repeating: "y", count: 8_000)
        for i in 1...inserts {
            let answer = writer.ask(["type": "store.insert", "bucket": "items", "data": ["sku": .string("s\(i)"), "name": .string(name)]])
            #expect(answer["type"] == "result")
        }
        let loaded = probe.wait { $0.droppedPushes > 0 }
        #expect(loaded.droppedPushes > 0, "no push was ever dropped: the test did not load the queue")
        #expect(loaded.peakBufferedBytes <= Self.hardLimit + 700_000)
        // Reading again, the subscriber ends on the current result (1 + 80 records).
        var last = 0
        while last != inserts + 1, let push = subscriber.nextPush(timeoutMs: 5_000) {
            last = push["data"]?.arrayValue?.count ?? -1
        }
        #expect(last == inserts + 1)
        #expect(subscriber.noPush())
    }
}

@Suite struct AcceptErrorStatsTests {
    /// `getStats()` counts the listener's accept failures (driven directly on a private loop).
    @Test func getStatsCountsAcceptErrors() throws {
        var config = ServerConfig(store: wireStoreFixture())
        config.host = "127.0.0.1"
        config.port = 0
        let server = try NoexServer.start(config)
        #expect(server.getStats()["acceptErrors"] == 0)
        server.transport.acceptFailed(UV_EMFILE.rawValue)
        server.transport.acceptFailed(UV_ENFILE.rawValue)
        #expect(server.getStats()["acceptErrors"] == 2)
        #expect(try Exposition(parsing: server.metrics.render())["noex_accept_errors_total"] == 2)
        server.stop()
        server.run()
    }
}
