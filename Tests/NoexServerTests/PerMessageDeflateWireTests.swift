import Foundation
import NoexJSON
import NoexLoop
import NoexStore
import Testing
@testable import NoexServer

/// permessage-deflate over real sockets: negotiation in the upgrade, compressed and plain
/// requests, compressed answers and pushes decoded to the exact JSON, and a decompression bomb.
@Suite(.serialized) struct PerMessageDeflateWireTests {
    private func server(_ compression: PerMessageDeflateConfig?) -> ServerThread {
        ServerThread {
            var config = ServerConfig(store: wireStoreFixture())
            config.compression = compression
            return config
        }
    }

    private func open(_ server: ServerThread, extensions: String?) throws -> WebSocketTestClient {
        let c = try #require(WebSocketTestClient(port: server.port, extensions: extensions))
        #expect(c.upgraded)
        #expect(WireStoreClient.parse(c.nextText())["type"] == "welcome")
        return c
    }

    private func answer(_ c: WebSocketTestClient, id: Int) -> String? {
        c.nextText { (try? JSON.parse($0))?["id"] == .int(Int64(id)) }
    }

    private static let longName = String(repeating: "a long and very compressible name ", count: 8)

    @Test func compressedAndPlainRequestsGetExactAnswersEitherWay() throws {
        let s = server(PerMessageDeflateConfig(threshold: 200))
        defer { s.stop() }
        let c = try open(s, extensions: "permessage-deflate; client_max_window_bits")
        #expect(c.extensionsAnswer == "permessage-deflate; server_no_context_takeover")
        let deflater = try #require(ZlibDeflater(windowBits: 15, memLevel: 8, level: 6, noContextTakeover: false))
        // A compressed insert: the answer is above the threshold, so it comes compressed.
        c.sendCompressedText(#"{"id":1,"type":"store.insert","bucket":"items","data":{"sku":"a1","name":"\#(Self.longName)"}}"#, with: deflater)
        let inserted = WireStoreClient.parse(answer(c, id: 1))
        #expect(inserted["type"] == "result")
        #expect(inserted["data"]?["name"] == .string(Self.longName))
        #expect(c.compressedFramesReceived == 1)
        // The client's compressor keeps its context: the second request refers to the first.
        c.sendCompressedText(#"{"id":2,"type":"store.get","bucket":"items","key":"a1"}"#, with: deflater)
        #expect(WireStoreClient.parse(answer(c, id: 2))["data"] == inserted["data"])
        #expect(c.compressedFramesReceived == 2)
        // A plain request between compressed ones; a small answer goes plain.
        c.sendText(#"{"id":3,"type":"store.get","bucket":"items","key":"missing"}"#)
        #expect(answer(c, id: 3) == #"{"id":3,"type":"result","data":null}"#)
        #expect(c.compressedFramesReceived == 2)
        c.sendCompressedText(#"{"id":4,"type":"store.count","bucket":"items"}"#, with: deflater)
        #expect(answer(c, id: 4) == #"{"id":4,"type":"result","data":1}"#)
    }

    @Test func contextTakeoverSurvivesPushesBetweenAnswers() throws {
        // The server keeps its window per connection; pushes (which may be dropped or replaced
        // in the queue) are compressed on their own and reset it.
        let s = server(PerMessageDeflateConfig(threshold: 0, serverNoContextTakeover: false))
        defer { s.stop() }
        let c = try open(s, extensions: "permessage-deflate")
        #expect(c.extensionsAnswer == "permessage-deflate")
        let w = try WireStoreClient(s)
        c.sendText(#"{"id":1,"type":"store.subscribe","query":"all-items"}"#)
        let subscribed = WireStoreClient.parse(answer(c, id: 1))
        let sub = try #require(subscribed["data"]?["subscriptionId"]?.stringValue)
        var expected: [JSON] = []
        for i in 0..<6 {
            let record = w.data(["type": "store.insert", "bucket": "items", "data": ["sku": .string("s\(i)"), "name": .string(Self.longName)]])
            expected.append(record)
            let push = WireStoreClient.parse(c.nextText { (try? JSON.parse($0))?["type"] == "push" })
            #expect(push["subscriptionId"] == .string(sub))
            #expect(push["data"]?.arrayValue?.count == i + 1)
            c.sendText(#"{"id":\#(10 + i),"type":"store.get","bucket":"items","key":"s\#(i)"}"#)
            #expect(WireStoreClient.parse(answer(c, id: 10 + i))["data"] == record)
        }
        #expect(c.compressedFramesReceived >= 12)
    }

    @Test func clientsThatDoNotOfferItAndServersWithoutItStayPlain() throws {
        let on = server(PerMessageDeflateConfig(threshold: 0))
        defer { on.stop() }
        let plain = try open(on, extensions: nil)
        #expect(plain.extensionsAnswer == nil)
        plain.sendText(#"{"id":1,"type":"store.count","bucket":"items"}"#)
        #expect(answer(plain, id: 1) == #"{"id":1,"type":"result","data":0}"#)
        #expect(plain.compressedFramesReceived == 0)
        // A client that sends RSV1 without having negotiated it breaks the protocol.
        plain.sendRaw(WebSocketTestClient.maskedFrame(opcode: 1, [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00], compressed: true))
        #expect(plain.next() == .close(code: 1002, reason: "reserved bits set"))

        let off = server(nil)
        defer { off.stop() }
        let c = try open(off, extensions: "permessage-deflate")
        #expect(c.extensionsAnswer == nil)
    }

    @Test func aDecompressionBombClosesWith1009AndTheServerGoesOn() throws {
        let s = ServerThread {
            var config = ServerConfig(store: wireStoreFixture())
            config.compression = PerMessageDeflateConfig()
            config.maxPayloadBytes = 64 << 10
            return config
        }
        defer { s.stop() }
        let c = try open(s, extensions: "permessage-deflate")
        // 16 MiB of spaces deflate to ~16 KiB: far past the 64 KiB limit once inflated.
        let deflater = try #require(ZlibDeflater(windowBits: 15, memLevel: 9, level: 9, noContextTakeover: true))
        let bomb = [UInt8](repeating: 0x20, count: 16 << 20).withUnsafeBytes { deflater.compress($0) }
        #expect(bomb.count < 64 << 10)
        c.sendRaw(WebSocketTestClient.maskedFrame(opcode: 1, bomb, compressed: true))
        #expect(c.next() == .close(code: 1009, reason: "message larger than the 65536-byte limit (server setting maxPayloadBytes)"))
        // Garbage that is not DEFLATE closes with 1007.
        let g = try open(s, extensions: "permessage-deflate")
        g.sendRaw(WebSocketTestClient.maskedFrame(opcode: 1, [0x07, 0x00], compressed: true))
        #expect(g.next() == .close(code: 1007, reason: "invalid compressed data"))
        // Others are served as before.
        let w = try WireStoreClient(s)
        #expect(w.data(["type": "store.count", "bucket": "items"]) == 0)
    }
}
