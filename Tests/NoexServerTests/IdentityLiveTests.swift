import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// Permission changes apply to open connections at their next request, and subscriptions the
/// user may no longer hold end (docs/identity.md#live-permission-changes).
@Suite struct IdentityLiveTests {
    static func ended(_ c: WireStoreClient) -> JSON {
        WireStoreClient.parse(c.ws.nextText { $0.contains("subscription_ended") })
    }

    @Test func removingARoleEndsSubscriptions() throws {
        let server = identityServer()
        defer { server.stop() }
        let (su, aliceId) = try superadminWithAlice(server, roles: ["reader"])
        let alice = try WireStoreClient(server)
        alice.login("alice", "password1234")
        let sub = alice.data(["type": "store.subscribe", "query": "all-items"])
        #expect(sub["data"] == [])
        _ = su.data(["type": "identity.removeRole", "userId": .string(aliceId), "roleName": "reader"])
        let notice = Self.ended(alice)
        #expect(notice["subscriptionId"] == sub["subscriptionId"] && notice["reason"] == "forbidden")
        #expect(alice.failure(["type": "store.count", "bucket": "items"]) == "FORBIDDEN No access to store.count on items")
        // Granting access back works at the next request.
        _ = su.data(["type": "identity.assignRole", "userId": .string(aliceId), "roleName": "reader"])
        #expect(alice.data(["type": "store.count", "bucket": "items"]) == 0)
    }

    @Test func disablingAUserEndsItsAccess() throws {
        let server = identityServer()
        defer { server.stop() }
        let (su, aliceId) = try superadminWithAlice(server, roles: ["writer"])
        let alice = try WireStoreClient(server)
        alice.login("alice", "password1234")
        _ = alice.data(["type": "store.subscribe", "query": "all-items"])
        _ = su.data(["type": "identity.disableUser", "userId": .string(aliceId)])
        #expect(Self.ended(alice)["reason"] == "forbidden")
        #expect(alice.failure(["type": "store.insert", "bucket": "items", "data": ["sku": "x", "name": "X"]])
                == "FORBIDDEN No access to store.insert on items")
    }

    @Test func aclGrantsApplyToTransactionsOperationByOperation() throws {
        let server = identityServer()
        defer { server.stop() }
        let su = try WireStoreClient(server)
        su.loginAsSuperadmin()
        let bobId = su.createUser("bob")
        let bob = try WireStoreClient(server)
        bob.login("bob", "password1234")
        let tx: JSONObject = ["type": "store.transaction", "operations": [["op": "insert", "bucket": "items", "data": ["sku": "t", "name": "T"]]]]
        #expect(bob.failure(tx) == "FORBIDDEN No access to store.insert on items")
        _ = su.data(["type": "identity.grant", "subjectType": "user", "subjectId": .string(bobId), "resourceType": "bucket",
                     "resourceName": "items", "operations": ["write"]])
        #expect(bob.ask(tx)["type"] == "result")
        // The guard holds for the superadmin too, inside a transaction.
        #expect(su.failure(["type": "store.transaction", "operations": [["op": "get", "bucket": "_sessions", "key": "x"]]])
                == #"FORBIDDEN Cannot access system bucket "_sessions" in transaction"#)
    }
}
