import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// Password hashing runs on libuv's threadpool (docs/identity.md#passwords): a connection's
/// later requests wait behind it in order, other connections are served meanwhile.
@Suite struct IdentityAsyncTests {
    @Test func concurrentLoginsDoNotBlockOtherConnections() throws {
        let server = identityServer()
        defer { server.stop() }
        let (su, _) = try superadminWithAlice(server)
        _ = su.data(["type": "store.insert", "bucket": "items", "data": ["sku": "a", "name": "A"]])
        let logins = try (0..<20).map { _ in try WireStoreClient(server) }
        for (i, c) in logins.enumerated() {
            c.ws.sendText(#"{"id":\#(i + 1),"type":"identity.login","username":"alice","password":"password1234"}"#)
        }
        // Sent after all 20 logins, answered before the last of them: the loop was not blocked.
        #expect(su.data(["type": "store.get", "bucket": "items", "key": "a"])["sku"] == "a")
        let last = logins[19].ws
        last.setTimeout(ms: 1)
        #expect(last.next() == .timeout, "the 20th login was answered before a later store.get")
        last.setTimeout(ms: 5000)
        for (i, c) in logins.enumerated() {
            let answer = WireStoreClient.parse(c.ws.nextText())
            #expect(answer["id"] == .int(Int64(i + 1)) && answer["type"] == "result")
        }
    }

    @Test func laterFramesWaitInOrderBehindALogin() throws {
        let server = identityServer()
        defer { server.stop() }
        _ = try superadminWithAlice(server, roles: ["reader"])
        let c = try WireStoreClient(server)
        c.ws.sendTextsTogether([
            #"{"id":1,"type":"identity.login","username":"alice","password":"password1234"}"#,
            #"{"id":2,"type":"store.count","bucket":"items"}"#,
            #"{"id":3,"type":"identity.login","username":"alice","password":"wrongwrong"}"#,
            "not json",
            #"{"id":4,"type":"identity.whoami"}"#,
        ])
        let frames = (0..<5).map { _ in WireStoreClient.parse(c.ws.nextText()) }
        #expect(frames.map { $0["id"] } == [1, 2, 3, 0, 4])
        #expect(frames[1]["data"] == 0)  // the count ran as alice, after her login
        #expect(frames[2]["code"] == "UNAUTHORIZED" && frames[3]["code"] == "PARSE_ERROR")
        #expect(frames[4]["data"]?["authenticated"] == true)  // a failed login leaves the session
    }

    @Test func aClosedConnectionsHashIsIgnored() throws {
        let server = identityServer()
        defer { server.stop() }
        let (su, _) = try superadminWithAlice(server)
        for _ in 0..<5 {
            let gone = try WireStoreClient(server)
            gone.ws.sendText(#"{"id":1,"type":"identity.login","username":"alice","password":"password1234"}"#)
        }  // each socket closes here, mid-hash
        let c = try WireStoreClient(server)
        #expect(c.login("alice", "password1234")["user"]?["username"] == "alice")
        #expect(su.data(["type": "server.stats"])["connections"]?["active"] == 2)
    }

    @Test func pipeliningBehindALoginIsHeldBackNotDropped() throws {
        let server = identityServer()
        defer { server.stop() }
        let (su, _) = try superadminWithAlice(server, roles: ["reader"])
        let c = try WireStoreClient(server)
        // Far more than the waiting limit: the transport stops reading instead of the server closing.
        let count = 4 * ProtocolCore.maxWaitingFrames
        var texts = [#"{"id":1,"type":"identity.login","username":"alice","password":"password1234"}"#]
        for i in 0..<count { texts.append(#"{"id":\#(i + 2),"type":"store.count","bucket":"items"}"#) }
        c.ws.sendTextsTogether(texts)
        for i in 0...count {
            let answer = WireStoreClient.parse(c.ws.nextText())
            #expect(answer["id"] == .int(Int64(i + 1)) && answer["type"] == "result", "\(answer.jsonString)")
            if answer["type"] != "result" { break }
        }
        #expect(su.data(["type": "identity.whoami"])["userId"] == "__superadmin__")
    }
}

/// `stop` with a hash in flight: the loop finishes the queued job, ignores its answer (the
/// connection is gone) and returns.
@Suite struct IdentityStopTests {
    @Test func stopWithALoginInFlight() throws {
        let server = identityServer()
        _ = try superadminWithAlice(server)
        let c = try WireStoreClient(server)
        c.ws.sendText(#"{"id":1,"type":"identity.login","username":"alice","password":"password1234"}"#)
        server.stop()
        #expect(WebSocketTestClient(port: server.port, timeoutMs: 500)?.upgraded != true, "the server still listens")
        // The connection was closed by the stop; the login's answer never arrives.
        var frames: [WebSocketTestClient.Frame] = []
        while frames.count < 5 {
            let f = c.ws.next()
            frames.append(f)
            if case .text = f { continue }
            break
        }
        #expect(frames.last == .close(code: 1000, reason: "server_shutdown") || frames.last == .eof)
        #expect(!frames.contains { if case .text(let s) = $0 { return s.contains("\"id\":1") } else { return false } })
    }
}
