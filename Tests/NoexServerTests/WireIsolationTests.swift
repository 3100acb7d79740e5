import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// Permissions are checked on what an operation really acts on, over real sockets.
@Suite struct WirePermissionScopeTests {
    @Test func everyTransactionOperationIsCheckedAgainstItsOwnBucket() throws {
        let server = WireIsolation.server()
        defer { server.stop() }
        let root = try WireIsolation.client(server, token: "root")
        _ = root.data(["type": "store.insert", "bucket": "secret", "data": ["id": "s1", "n": 7]])
        _ = root.data(["type": "store.insert", "bucket": "public", "data": ["id": "p1", "n": 1]])
        let pub = try WireIsolation.client(server, token: "pub")

        // Reading the secret bucket through a transaction, with and without a decoy top-level bucket.
        #expect(pub.askRaw(["id": 10, "type": "store.transaction",
                            "operations": [["op": "get", "bucket": "secret", "key": "s1"]]])
                == WireIsolation.forbidden(10, "store.get", on: "secret"))
        #expect(pub.askRaw(["id": 11, "type": "store.transaction", "bucket": "public",
                            "operations": [["op": "get", "bucket": "public", "key": "p1"],
                                           ["op": "where", "bucket": "secret", "filter": [:]]]])
                == WireIsolation.forbidden(11, "store.where", on: "secret"))
        // Writing it: refused as the standalone insert would be, and nothing is written.
        #expect(pub.askRaw(["id": 12, "type": "store.transaction",
                            "operations": [["op": "update", "bucket": "public", "key": "p1", "data": ["n": 2]],
                                           ["op": "insert", "bucket": "secret", "data": ["id": "s2"]]]])
                == WireIsolation.forbidden(12, "store.insert", on: "secret"))
        #expect(pub.askRaw(["id": 13, "type": "store.insert", "bucket": "secret", "data": ["id": "s2"]])
                == WireIsolation.forbidden(13, "store.insert", on: "secret"))
        #expect(root.data(["type": "store.count", "bucket": "secret"]) == 1)
        #expect(root.data(["type": "store.get", "bucket": "public", "key": "p1"])["n"] == 1)

        // Operations on allowed buckets still run.
        let ok = pub.data(["type": "store.transaction",
                           "operations": [["op": "update", "bucket": "public", "key": "p1", "data": ["n": 3]],
                                          ["op": "get", "bucket": "public", "key": "p1"]]])
        #expect(ok["results"]?.arrayValue?.last?["data"]?["n"] == 3)
    }

    @Test func decoyFieldsDoNotChooseTheResource() throws {
        let server = WireIsolation.server()
        defer { server.stop() }
        let pub = try WireIsolation.client(server, token: "pub")
        // The operation uses `key`, not the allowed `topic` beside it.
        #expect(pub.askRaw(["id": 20, "type": "rules.getFact", "topic": "orders.x", "key": "secret"])
                == WireIsolation.forbidden(20, "rules.getFact", on: "secret"))
        // Admin store operations act on `name`, not on an allowed `bucket` beside it.
        #expect(pub.askRaw(["id": 21, "type": "store.dropBucket", "bucket": "public", "name": "secret"])
                == WireIsolation.forbidden(21, "store.dropBucket", on: "secret"))
        // A query over an allowed name but a forbidden bucket: checked against the bucket too.
        #expect(pub.askRaw(["id": 22, "type": "store.subscribe", "query": "secret-all"])
                == WireIsolation.forbidden(22, "store.subscribe", on: "secret-all"))
        // Unsubscribing acts on the connection's own subscription: allowed under a bucket list.
        let sub = pub.data(["type": "store.subscribe", "query": "public-all"])["subscriptionId"]!
        #expect(pub.data(["type": "store.unsubscribe", "subscriptionId": sub]) == ["unsubscribed": true])
        // An allowed query name over a forbidden bucket: the data behind the query decides.
        let root = try WireIsolation.client(server, token: "root")
        _ = root.data(["type": "store.undefineQuery", "name": "public-all"])
        _ = root.data(["type": "store.defineQuery", "name": "public-all", "config": ["bucket": "secret"]])
        #expect(pub.askRaw(["id": 23, "type": "store.subscribe", "query": "public-all"])
                == WireIsolation.forbidden(23, "store.subscribe", on: "secret"))
    }

    @Test func rulesSubscribeIsCheckedAgainstItsPattern() throws {
        let server = WireIsolation.server()
        defer { server.stop() }
        let root = try WireIsolation.client(server, token: "root")
        let pub = try WireIsolation.client(server, token: "pub")
        // Wider than `orders.*` (or outside it): refused, whatever decoy `topic` comes along.
        for (id, pattern) in [(30, "*"), (31, "*.created"), (32, "orders"), (33, "payments.*"), (34, "*.*")] as [(Int64, String)] {
            #expect(pub.askRaw(["id": .int(id), "type": "rules.subscribe", "pattern": .string(pattern), "topic": "orders.x"])
                    == WireIsolation.forbidden(id, "rules.subscribe", on: pattern))
        }
        let narrow = pub.data(["type": "rules.subscribe", "pattern": "orders.*"])["subscriptionId"]!
        let deeper = pub.data(["type": "rules.subscribe", "pattern": "orders.*.eu"])["subscriptionId"]!
        _ = root.data(["type": "rules.emit", "topic": "payments.done", "data": ["secret": true]])
        _ = root.data(["type": "rules.emit", "topic": "orders.created.eu", "data": ["n": 1]])
        let pushes = [pub.nextPush(), pub.nextPush()]
        #expect(Set(pushes.compactMap { $0?["subscriptionId"]?.stringValue }) == [narrow.stringValue!, deeper.stringValue!])
        #expect(pushes.allSatisfy { $0?["data"]?["topic"] == "orders.created.eu" })
        #expect(pub.noPush())
    }
}

/// Subscriptions end with the session that was allowed to make them.
@Suite struct WireSessionSubscriptionTests {
    @Test func logoutEndsSubscriptionsAndStopsPushes() throws {
        let server = WireIsolation.server()
        defer { server.stop() }
        let root = try WireIsolation.client(server, token: "root")
        let c = try WireIsolation.client(server, token: "root")
        let storeSub = c.data(["type": "store.subscribe", "query": "secret-all"])["subscriptionId"]!.stringValue!
        let rulesSub = c.data(["type": "rules.subscribe", "pattern": "orders.*"])["subscriptionId"]!.stringValue!
        #expect(c.data(["type": "auth.logout"]) == ["loggedOut": true])
        #expect(c.ws.nextText() == WireIsolation.subscriptionEnded(storeSub, "logged_out"))
        #expect(c.ws.nextText() == WireIsolation.subscriptionEnded(rulesSub, "logged_out"))
        _ = root.data(["type": "store.insert", "bucket": "secret", "data": ["id": "s9"]])
        _ = root.data(["type": "rules.emit", "topic": "orders.created"])
        #expect(c.noPush(withinMs: 300))
        // The slots are free again: unsubscribing them now is NOT_FOUND.
        _ = c.data(["type": "auth.login", "token": "root"])
        #expect(c.ask(["type": "store.unsubscribe", "subscriptionId": .string(storeSub)])["code"] == "NOT_FOUND")
    }

    @Test func expiryIsNoticedByTheSweepWithoutARequest() throws {
        let server = WireIsolation.server(expiresInMs: 3_000)
        defer { server.stop() }
        let c = try WireIsolation.client(server, token: "temp")
        let sub = c.data(["type": "store.subscribe", "query": "public-all"])["subscriptionId"]!.stringValue!
        c.ws.setTimeout(ms: 15_000)  // a bound, not a timing assertion: the sweep runs every second
        #expect(c.ws.nextText() == WireIsolation.subscriptionEnded(sub, "session_expired"))
        // The next request still learns why, as without subscriptions.
        #expect(c.ask(["type": "store.all", "bucket": "public"])["message"] == "Session expired")
    }

    @Test func reloginAsALowerRoleEndsOnlyWhatItMayNotHold() throws {
        let server = WireIsolation.server()
        defer { server.stop() }
        let root = try WireIsolation.client(server, token: "root")
        let c = try WireIsolation.client(server, token: "root")
        let secret = c.data(["type": "store.subscribe", "query": "secret-all"])["subscriptionId"]!.stringValue!
        let pub = c.data(["type": "store.subscribe", "query": "public-all"])["subscriptionId"]!.stringValue!
        let everything = c.data(["type": "rules.subscribe", "pattern": "*"])["subscriptionId"]!.stringValue!
        let orders = c.data(["type": "rules.subscribe", "pattern": "orders.*"])["subscriptionId"]!.stringValue!
        #expect(c.data(["type": "auth.login", "token": "pub"])["userId"] == "pub-user")
        #expect(c.ws.nextText() == WireIsolation.subscriptionEnded(secret, "forbidden"))
        #expect(c.ws.nextText() == WireIsolation.subscriptionEnded(everything, "forbidden"))
        _ = root.data(["type": "store.insert", "bucket": "secret", "data": ["id": "s1"]])
        _ = root.data(["type": "store.insert", "bucket": "public", "data": ["id": "p1"]])
        _ = root.data(["type": "rules.emit", "topic": "orders.created"])
        let storePush = c.nextPush()
        #expect(storePush?["subscriptionId"] == .string(pub))
        let eventPush = c.nextPush()
        #expect(eventPush?["subscriptionId"] == .string(orders))
        #expect(c.noPush())
    }
}
