import NoexJSON
import Testing
@testable import NoexServer

/// `auth.maxSessionsPerUser`: a login past the cap deletes the user's oldest stored sessions
/// (docs/identity.md#sessions).
@Suite struct IdentitySessionCapTests {
    @Test func aLoginPastTheCapEvictsTheOldestSession() throws {
        let server = identityServer { $0.builtInAuth?.maxSessionsPerUser = 2 }
        defer { server.stop() }
        let (su, _) = try superadminWithAlice(server, roles: ["reader"])
        var logins: [WireStoreClient] = []
        var tokens: [JSON] = []
        for _ in 0..<3 {
            let c = try WireStoreClient(server)
            tokens.append(c.login("alice", "password1234")["token"] ?? .null)
            logins.append(c)
        }
        // The first token is gone: it no longer logs in. The two newest still do.
        let fresh = try WireStoreClient(server)
        #expect(fresh.failure(["type": "auth.login", "token": tokens[0]]) == "UNAUTHORIZED Invalid token")
        #expect(fresh.data(["type": "auth.login", "token": tokens[1]])["userId"] != nil)
        #expect(fresh.data(["type": "auth.login", "token": tokens[2]])["userId"] != nil)
        #expect(logins[0].failure(["type": "identity.refreshSession"]) == "UNAUTHORIZED Invalid or expired session")
        // A connection logged in with the evicted token keeps its session until it expires.
        #expect(logins[0].data(["type": "store.count", "bucket": "items"]) == 0)
        // Another user's sessions are not counted against alice's cap.
        _ = su.createUser("bob")
        let bob = try WireStoreClient(server)
        let bobToken = bob.login("bob", "password1234")["token"] ?? .null
        #expect(fresh.data(["type": "auth.login", "token": bobToken])["userId"] != nil)
        #expect(fresh.data(["type": "auth.login", "token": tokens[2]])["userId"] != nil)
    }

    @Test func withoutACapEverySessionStays() throws {
        let server = identityServer()
        defer { server.stop() }
        _ = try superadminWithAlice(server)
        var tokens: [JSON] = []
        for _ in 0..<3 {
            let c = try WireStoreClient(server)
            tokens.append(c.login("alice", "password1234")["token"] ?? .null)
        }
        let fresh = try WireStoreClient(server)
        for t in tokens { #expect(fresh.data(["type": "auth.login", "token": t])["userId"] != nil) }
    }
}
