// Every way a connection can end gives its descriptor back: the real binary, real sockets, and
// the server process's own descriptor table (/proc/<pid>/fd) before and after.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension BinaryTests {
    /// How many descriptors process `pid` has open.
    static func openDescriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    /// Waits (at most 10 s) until process `pid` holds `count` descriptors; returns the last count.
    static func descriptors(_ pid: Int32, settlingAt count: Int) -> Int {
        var seen = openDescriptors(pid)
        for _ in 0..<500 where seen != count {
            usleep(20_000)
            seen = openDescriptors(pid)
        }
        return seen
    }

    @Test func everyWayAConnectionEndsGivesItsDescriptorBack() throws {
        let (p, port, _) = try launch(["-p", "0", "-H", "127.0.0.1", "--shutdown-grace-period-ms", "0"])
        defer { if p.isRunning { p.terminate() } }
        let pid = p.processIdentifier
        let before = Self.openDescriptors(pid)
        #expect(before > 0)
        for round in 0..<40 {
            // A close handshake.
            let closing = try #require(WebSocketTestClient(port: port))
            #expect(closing.nextText()?.contains("\"welcome\"") == true, "round \(round)")
            closing.sendFrame(opcode: 8, [0x03, 0xE8])
            #expect(closing.next() == .close(code: 1000, reason: ""))
            // A reset after the upgrade (zero linger: RST instead of FIN).
            do {
                let resetting = try #require(WebSocketTestClient(port: port))
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(resetting.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            }
            // A half-close after a request: the answer still comes, then the server's FIN.
            let halfClosing = try #require(WebSocketTestClient(port: port))
            #expect(halfClosing.nextText()?.contains("\"welcome\"") == true)
            halfClosing.sendText(#"{"id":1,"type":"store.buckets"}"#)
            shutdown(halfClosing.fd, Int32(SHUT_WR))
            #expect(halfClosing.nextText()?.contains("\"id\":1") == true)
            #expect(halfClosing.next() == .eof)
            // Gone before the upgrade: right after connecting, and in the middle of the request head.
            let early = try #require(connectLoopback(port: port))
            close(early)
            let partial = try #require(connectLoopback(port: port))
            let head = Array("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr".utf8)
            _ = head.withUnsafeBytes { send(partial, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(partial)
        }
        #expect(Self.descriptors(pid, settlingAt: before) == before)
        p.terminate()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}
