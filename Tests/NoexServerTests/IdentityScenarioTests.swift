import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// Scenario T40 of the original's suite replayed over real sockets (docs/identity.md).
@Suite struct IdentityScenarioTests {
    @Test func t40BuiltInIdentity() throws {
        let server = identityServer()
        defer { server.stop() }
        let admin = try WireStoreClient(server)
        #expect(admin.welcome["requiresAuth"] == true)
        #expect(admin.askRaw(["id": 1, "type": "identity.whoami"]) == wireError(1, "UNAUTHORIZED", "Authentication required"))
        #expect(admin.askRaw(["id": 2, "type": "store.all", "bucket": "items"]) == wireError(2, "UNAUTHORIZED", "Authentication required"))
        #expect(admin.askRaw(["id": 3, "type": "identity.loginWithSecret", "secret": "wrong"]) == wireError(3, "UNAUTHORIZED", "Invalid secret"))
        #expect(admin.askRaw(["id": 4, "type": "identity.loginWithSecret"])
                == wireError(4, "VALIDATION_ERROR", "Missing or invalid \"secret\": expected non-empty string"))
        let su = admin.loginAsSuperadmin()
        #expect(su["token"]?.stringValue?.count == 36)
        #expect(su["expiresAt"]?.intValue.map { $0 > 1_600_000_000_000 } == true)
        #expect(su["user"] == ["id": "__superadmin__", "username": "__superadmin__", "roles": ["superadmin"]])

        let alice = admin.data(["type": "identity.createUser", "username": "alice", "password": "password1234", "displayName": "Alice"])
        let aliceId = try #require(alice["id"]?.stringValue)
        #expect(wireStable(alice) == ["id": .string(aliceId), "username": "alice", "displayName": "Alice", "enabled": true,
                                      "_createdAt": 0, "_updatedAt": 0])
        #expect(admin.askRaw(["id": 10, "type": "identity.createUser", "username": "bob", "password": "short"])
                == wireError(10, "VALIDATION_ERROR", "Password must be at least 8 characters"))
        #expect(admin.askRaw(["id": 11, "type": "identity.createUser", "username": "alice", "password": "password1234"])
                == wireError(11, "ALREADY_EXISTS", "User \"alice\" already exists"))
        #expect(admin.data(["type": "identity.assignRole", "userId": .string(aliceId), "roleName": "writer"]) == ["assigned": true])

        let c = try WireStoreClient(server)
        #expect(c.askRaw(["id": 1, "type": "identity.login", "username": "alice", "password": "wrong"])
                == wireError(1, "UNAUTHORIZED", "Invalid credentials"))
        let login = c.login("alice", "password1234")
        #expect(login["user"] == ["id": .string(aliceId), "username": "alice", "displayName": "Alice", "roles": ["writer"]])
        let token = try #require(login["token"]?.stringValue)
        #expect(c.data(["type": "store.insert", "bucket": "items", "data": ["sku": "a", "name": "A"]])["sku"] == "a")
        #expect(c.askRaw(["id": 5, "type": "store.defineBucket", "name": "x", "config": ["key": "id", "schema": ["id": ["type": "string"]]]])
                == wireError(5, "FORBIDDEN", "No access to store.defineBucket on x"))
        #expect(c.askRaw(["id": 6, "type": "identity.createUser", "username": "carol", "password": "password1234"])
                == wireError(6, "FORBIDDEN", "Admin role required"))
        #expect(admin.askRaw(["id": 20, "type": "store.all", "bucket": "_users"])
                == wireError(20, "FORBIDDEN", "Cannot access system bucket \"_users\" directly"))
        let names = admin.data(["type": "store.buckets"])["names"]?.arrayValue ?? []
        #expect(!names.isEmpty && !names.contains { $0.stringValue?.hasPrefix("_") == true })

        let second = try WireStoreClient(server)
        let reconnect = second.data(["type": "auth.login", "token": .string(token)])
        #expect(reconnect["userId"] == .string(aliceId))
        #expect(reconnect["roles"] == ["writer"])
        #expect(c.data(["type": "identity.logout"]) == ["loggedOut": true])
        let third = try WireStoreClient(server)
        #expect(third.askRaw(["id": 1, "type": "auth.login", "token": .string(token)]) == wireError(1, "UNAUTHORIZED", "Invalid token"))
    }

    @Test func lockoutRefusesEvenTheRightPassword() throws {
        let server = identityServer(maxAttempts: 3, windowMs: 60_000)
        defer { server.stop() }
        let admin = try WireStoreClient(server)
        admin.loginAsSuperadmin()
        _ = admin.createUser("alice")
        let c = try WireStoreClient(server)
        for i in 1...3 {
            #expect(c.askRaw(["id": .int(Int64(i)), "type": "identity.login", "username": "alice", "password": "wrongwrong"])
                    == wireError(Int64(i), "UNAUTHORIZED", "Invalid credentials"))
        }
        let locked = c.ask(["id": 4, "type": "identity.login", "username": "alice", "password": "password1234"])
        #expect(locked["code"] == "RATE_LIMITED")
        #expect(locked["message"] == "Too many failed login attempts. Try again later.")
        let retry = try #require(locked["details"]?["retryAfterMs"]?.intValue)
        #expect(retry > 0 && retry <= 60_000)
    }

    @Test func secretLockoutAndWhichKeysASuccessResets() throws {
        let server = identityServer(maxAttempts: 3, windowMs: 60_000)
        defer { server.stop() }
        let c = try WireStoreClient(server)
        for _ in 1...3 { #expect(c.failure(["type": "identity.loginWithSecret", "secret": "nope"]) == "UNAUTHORIZED Invalid secret") }
        #expect(c.ask(["type": "identity.loginWithSecret", "secret": "test-admin-secret"])["code"] == "RATE_LIMITED")

        // A fresh server: the address key of the first one is locked.
        let other = identityServer(maxAttempts: 3, windowMs: 60_000)
        defer { other.stop() }
        _ = try superadminWithAlice(other)
        let a = try WireStoreClient(other)
        let wrong: JSONObject = ["type": "identity.login", "username": "alice", "password": "wrongwrong"]
        for _ in 1...2 { #expect(a.failure(wrong) == "UNAUTHORIZED Invalid credentials") }
        a.login("alice", "password1234")  // resets the username's counter, not the address's (as the original's code)
        #expect(a.failure(wrong) == "UNAUTHORIZED Invalid credentials")  // the address's third failure
        let locked = a.ask(wrong)
        #expect(locked["code"] == "RATE_LIMITED" && locked["details"]?["retryAfterMs"]?.intValue != nil)
    }
}
