import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// Users, roles, assignments, ACL, ownership and sessions live in system buckets, so both
/// storage engines keep them across a restart (docs/identity.md#storage).
@Suite struct IdentityRestartTests {
    static func server(_ path: String, _ engine: PersistenceOptions.Engine) -> ServerThread {
        identityServer { $0.persistence = PersistenceOptions(path: path, fsync: .always, engine: engine) }
    }

    @Test(arguments: [PersistenceOptions.Engine.sqlite, .file])
    func identitySurvivesARestart(_ engine: PersistenceOptions.Engine) throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let path = dir.file(engine == .sqlite ? "noex.db" : "data")
        let reads: [JSONObject] = [
            ["id": 901, "type": "identity.listRoles"],
            ["id": 902, "type": "identity.listUsers"],
            ["id": 903, "type": "identity.getAcl", "resourceType": "bucket", "resourceName": "notes"],
            ["id": 904, "type": "identity.getOwner", "resourceType": "bucket", "resourceName": "notes"],
        ]
        var before: [String] = []
        var token = JSON.null
        var aliceId = ""
        do {
            let server = Self.server(path, engine)
            #expect(server.startError == nil)
            let su = try WireStoreClient(server)
            su.loginAsSuperadmin()
            aliceId = su.createUser("alice", roles: ["reader"])
            let bobId = su.createUser("bob", roles: ["admin"])
            _ = su.data(["type": "identity.createRole", "name": "auditor", "permissions": [["allow": "store.count"]]])
            let bob = try WireStoreClient(server)
            bob.login("bob", "password1234")
            _ = bob.data(["type": "store.defineBucket", "name": "notes", "config": ["key": "id", "schema": ["id": ["type": "string"]]]])
            _ = bob.data(["type": "identity.grant", "subjectType": "user", "subjectId": .string(aliceId), "resourceType": "bucket",
                          "resourceName": "notes", "operations": ["write"]])
            _ = bobId
            let alice = try WireStoreClient(server)
            token = alice.login("alice", "password1234")["token"] ?? .null
            #expect(alice.ask(["type": "store.insert", "bucket": "notes", "data": ["id": "n1"]])["type"] == "result")
            before = reads.map { su.askRaw($0) ?? "<none>" }
            server.stop()
        }
        let server = Self.server(path, engine)
        defer { server.stop() }
        #expect(server.startError == nil)
        let su = try WireStoreClient(server)
        su.loginAsSuperadmin()
        #expect(reads.map { su.askRaw($0) ?? "<none>" } == before)  // the system roles were not seeded twice
        let again = try WireStoreClient(server)
        #expect(again.data(["type": "auth.login", "token": token]) ["userId"] == .string(aliceId))  // the session survived
        let alice = try WireStoreClient(server)
        #expect(alice.login("alice", "password1234")["user"]?["roles"] == ["reader"])
        #expect(alice.data(["type": "store.get", "bucket": "notes", "key": "n1"])["id"] == "n1")  // ACL grant and record
    }
}
