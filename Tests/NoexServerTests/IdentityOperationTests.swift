import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// Every `identity.*` operation's success and error paths over a real socket
/// (docs/protocol/identity.md).
@Suite struct IdentityOperationTests {
    @Test func sessionsWhoamiRefreshLogout() throws {
        let server = identityServer()
        defer { server.stop() }
        let (su, aliceId) = try superadminWithAlice(server, roles: ["reader"])
        let c = try WireStoreClient(server)
        #expect(c.failure(["type": "identity.refreshSession"]) == "UNAUTHORIZED Authentication required")
        let first = c.login("alice", "password1234")
        let who = c.data(["type": "identity.whoami"])
        #expect(who == ["authenticated": true, "userId": .string(aliceId), "roles": ["reader"], "expiresAt": first["expiresAt"]!])
        let refreshed = c.data(["type": "identity.refreshSession"])
        #expect(refreshed["token"] != first["token"] && refreshed["user"]?["roles"] == ["reader"])
        // The old token is gone, the new one works for a reconnect.
        let other = try WireStoreClient(server)
        #expect(other.failure(["type": "auth.login", "token": first["token"]!]) == "UNAUTHORIZED Invalid token")
        #expect(other.data(["type": "auth.login", "token": refreshed["token"]!])["userId"] == .string(aliceId))
        // auth.login does not make the connection's identity token: nothing to refresh.
        #expect(other.failure(["type": "identity.refreshSession"]) == "UNAUTHORIZED No active session to refresh")
        // A disabled user's token no longer refreshes.
        _ = su.data(["type": "identity.disableUser", "userId": .string(aliceId)])
        #expect(c.failure(["type": "identity.refreshSession"]) == "UNAUTHORIZED Invalid or expired session")
        #expect(c.data(["type": "identity.logout"]) == ["loggedOut": true])
        #expect(c.failure(["type": "identity.whoami"]) == "UNAUTHORIZED Authentication required")
        #expect(c.failure(["type": "identity.frobnicate"]) == "UNAUTHORIZED Authentication required")
        #expect(su.failure(["type": "identity.frobnicate"]) == #"UNKNOWN_OPERATION Unknown identity operation "identity.frobnicate""#)
        // Disabled: the right password is refused with its own message.
        #expect(c.failure(["type": "identity.login", "username": "alice", "password": "password1234"]) == "UNAUTHORIZED Account disabled")
        #expect(c.failure(["type": "identity.login", "username": "nobody", "password": "password1234"]) == "UNAUTHORIZED Invalid credentials")
        #expect(c.failure(["type": "identity.login", "username": "alice"]) == #"VALIDATION_ERROR Missing or invalid "password": expected non-empty string"#)
    }

    @Test func users() throws {
        let server = identityServer()
        defer { server.stop() }
        let su = try WireStoreClient(server)
        su.loginAsSuperadmin()
        #expect(su.failure(["type": "identity.createUser", "username": "al", "password": "password1234"])
                == "VALIDATION_ERROR Username must be between 3 and 64 characters")
        #expect(su.failure(["type": "identity.createUser", "username": "carl", "password": "password1234", "email": "not-an-email"])
                == "INTERNAL_ERROR Internal server error")
        let created = su.data(["type": "identity.createUser", "username": "bob", "password": "password1234", "email": "b@x.io",
                               "enabled": "yes", "metadata": ["team": "a"]])
        let bobId = try #require(created["id"]?.stringValue)
        #expect(created["enabled"] == true && created["email"] == "b@x.io" && created["metadata"] == ["team": "a"])
        #expect(created["passwordHash"] == nil && created["_version"] == nil)
        #expect(su.data(["type": "identity.getUser", "userId": .string(bobId)]) == created)
        #expect(su.failure(["type": "identity.getUser", "userId": "nope"]) == "NOT_FOUND User not found")
        let updated = su.data(["type": "identity.updateUser", "userId": .string(bobId), "displayName": "Bob", "metadata": 5])
        #expect(updated["displayName"] == "Bob" && updated["metadata"] == [:])
        #expect(su.failure(["type": "identity.updateUser", "userId": "nope", "displayName": "x"]) == "NOT_FOUND User not found")
        let list = su.data(["type": "identity.listUsers", "page": 1, "pageSize": 500])
        #expect(list["total"] == 1 && list["page"] == 1 && list["pageSize"] == 200 && list["users"]?.arrayValue?.count == 1)
        #expect(su.data(["type": "identity.listUsers", "page": 2])["users"] == [])
        #expect(su.data(["type": "identity.disableUser", "userId": .string(bobId)])["enabled"] == false)
        #expect(su.data(["type": "identity.enableUser", "userId": .string(bobId)])["enabled"] == true)
        #expect(su.failure(["type": "identity.disableUser", "userId": "__superadmin__"]) == "FORBIDDEN Cannot disable virtual superadmin")
        #expect(su.failure(["type": "identity.enableUser", "userId": "nope"]) == "NOT_FOUND User not found")

        // Self-service: bob (no role) may update himself, not others; admin ops are refused.
        let bob = try WireStoreClient(server)
        bob.login("bob", "password1234")
        let carolId = su.createUser("carol")
        #expect(bob.data(["type": "identity.updateUser", "userId": .string(bobId), "email": "new@x.io"])["email"] == "new@x.io")
        #expect(bob.failure(["type": "identity.updateUser", "userId": .string(carolId), "email": "x@x.io"]) == "FORBIDDEN Admin role required")
        for op in ["identity.getUser", "identity.deleteUser", "identity.enableUser", "identity.disableUser", "identity.getUserRoles"] {
            #expect(bob.failure(["type": .string(op), "userId": .string(carolId)]) == "FORBIDDEN Admin role required")
        }
        #expect(bob.failure(["type": "identity.listUsers"]) == "FORBIDDEN Admin role required")
        #expect(bob.failure(["type": "store.all", "bucket": "items"]) == "FORBIDDEN No access to store.all on items")

        // Passwords.
        #expect(bob.failure(["type": "identity.changePassword", "userId": .string(carolId), "currentPassword": "password1234", "newPassword": "newpassword1"])
                == "FORBIDDEN Can only change your own password (use resetPassword for other users)")
        #expect(bob.failure(["type": "identity.changePassword", "userId": .string(bobId), "currentPassword": "password1234", "newPassword": "short"])
                == "VALIDATION_ERROR Password must be at least 8 characters")
        #expect(bob.failure(["type": "identity.changePassword", "userId": .string(bobId), "currentPassword": "wrongwrong", "newPassword": "newpassword1"])
                == "UNAUTHORIZED Current password is incorrect")
        #expect(bob.data(["type": "identity.changePassword", "userId": .string(bobId), "currentPassword": "password1234", "newPassword": "newpassword1"])
                == ["changed": true])
        let relogin = try WireStoreClient(server)
        #expect(relogin.failure(["type": "identity.login", "username": "bob", "password": "password1234"]) == "UNAUTHORIZED Invalid credentials")
        relogin.login("bob", "newpassword1")
        #expect(bob.failure(["type": "identity.resetPassword", "userId": .string(carolId), "newPassword": "resetpass1"]) == "FORBIDDEN Admin role required")
        #expect(su.failure(["type": "identity.resetPassword", "userId": "nope", "newPassword": "resetpass1"]) == "NOT_FOUND User not found")
        #expect(su.failure(["type": "identity.resetPassword", "userId": .string(carolId), "newPassword": "short"])
                == "VALIDATION_ERROR Password must be at least 8 characters")
        #expect(su.data(["type": "identity.resetPassword", "userId": .string(carolId), "newPassword": "resetpass1"]) == ["reset": true])
        relogin.login("carol", "resetpass1")

        // Delete: everything of the user goes.
        #expect(su.failure(["type": "identity.deleteUser", "userId": "__superadmin__"]) == "FORBIDDEN Cannot delete virtual superadmin")
        #expect(su.data(["type": "identity.deleteUser", "userId": .string(carolId)]) == ["deleted": true])
        #expect(su.failure(["type": "identity.deleteUser", "userId": .string(carolId)]) == "NOT_FOUND User not found")
    }

    @Test func roles() throws {
        let server = identityServer()
        defer { server.stop() }
        let su = try WireStoreClient(server)
        su.loginAsSuperadmin()
        let roles = su.data(["type": "identity.listRoles"])["roles"]?.arrayValue ?? []
        #expect(roles.compactMap { $0["name"]?.stringValue } == ["superadmin", "admin", "writer", "reader"])
        #expect(roles.allSatisfy { $0["system"] == true && $0["_version"] == nil })
        #expect(su.failure(["type": "identity.createRole", "name": "writer"]) == #"ALREADY_EXISTS Role "writer" already exists"#)
        #expect(su.failure(["type": "identity.createRole", "name": .string(String(repeating: "r", count: 65))])
                == "VALIDATION_ERROR Role name must be between 1 and 64 characters")
        let editor = su.data(["type": "identity.createRole", "name": "editor", "description": "Edits",
                              "permissions": [["allow": "store.*", "buckets": ["items"]]]])
        let editorId = try #require(editor["id"]?.stringValue)
        #expect(editor["system"] == false && editor["name"] == "editor")
        #expect(su.data(["type": "identity.updateRole", "roleId": .string(editorId), "description": "Edits items"])["description"] == "Edits items")
        #expect(su.failure(["type": "identity.updateRole", "roleId": "nope"]) == "NOT_FOUND Role not found")
        let systemId = try #require(roles.first?["id"])
        #expect(su.failure(["type": "identity.deleteRole", "roleId": systemId]) == "FORBIDDEN Cannot delete system role")
        #expect(su.failure(["type": "identity.deleteRole", "roleId": "nope"]) == "NOT_FOUND Role not found")

        let userId = su.createUser("dave")
        #expect(su.failure(["type": "identity.assignRole", "userId": "nope", "roleName": "editor"]) == "NOT_FOUND User not found")
        #expect(su.failure(["type": "identity.assignRole", "userId": .string(userId), "roleName": "nope"]) == #"NOT_FOUND Role "nope" not found"#)
        #expect(su.data(["type": "identity.assignRole", "userId": .string(userId), "roleName": "editor"]) == ["assigned": true])
        #expect(su.failure(["type": "identity.assignRole", "userId": .string(userId), "roleName": "editor"])
                == #"ALREADY_EXISTS User already has role "editor""#)
        #expect(su.data(["type": "identity.getUserRoles", "userId": .string(userId)])["roles"]?.arrayValue?.map { $0["name"] } == ["editor"])
        #expect(su.data(["type": "identity.getUserRoles", "userId": "__superadmin__"])["roles"]?.arrayValue?.map { $0["name"] } == ["superadmin"])
        #expect(su.failure(["type": "identity.getUserRoles", "userId": "nope"]) == "NOT_FOUND User not found")

        // The editor's permission is bucket-bound.
        let dave = try WireStoreClient(server)
        dave.login("dave", "password1234")
        #expect(dave.data(["type": "store.insert", "bucket": "items", "data": ["sku": "d", "name": "D"]])["sku"] == "d")
        #expect(dave.failure(["type": "store.all", "bucket": "users"]) == "FORBIDDEN No access to store.all on users")
        #expect(dave.failure(["type": "identity.createRole", "name": "x"]) == "FORBIDDEN Superadmin role required")
        #expect(dave.failure(["type": "identity.listRoles"]) == "FORBIDDEN Admin role required")

        #expect(su.failure(["type": "identity.removeRole", "userId": .string(userId), "roleName": "reader"])
                == #"NOT_FOUND User does not have role "reader""#)
        #expect(su.failure(["type": "identity.removeRole", "userId": .string(userId), "roleName": "nope"]) == #"NOT_FOUND Role "nope" not found"#)
        #expect(su.data(["type": "identity.deleteRole", "roleId": .string(editorId)]) == ["deleted": true])
        // Deleting the role removed the assignment, and the open connection lost the access at once.
        #expect(su.data(["type": "identity.getUserRoles", "userId": .string(userId)])["roles"] == [])
        #expect(dave.failure(["type": "store.get", "bucket": "items", "key": "d"]) == "FORBIDDEN No access to store.get on items")
    }

    @Test func aclAndOwnership() throws {
        let server = identityServer()
        defer { server.stop() }
        let su = try WireStoreClient(server)
        su.loginAsSuperadmin()
        let ownerId = su.createUser("owner", roles: ["admin"])
        let eveId = su.createUser("eve")
        let owner = try WireStoreClient(server)
        owner.login("owner", "password1234")
        // defineBucket makes the caller the owner.
        _ = owner.data(["type": "store.defineBucket", "name": "notes", "config": ["key": "id", "schema": ["id": ["type": "string"], "t": ["type": "string"]]]])
        #expect(owner.data(["type": "identity.getOwner", "resourceType": "bucket", "resourceName": "notes"])
                == ["owner": ["userId": .string(ownerId), "username": "owner", "resourceType": "bucket", "resourceName": "notes"]])
        #expect(owner.data(["type": "identity.getOwner", "resourceType": "bucket", "resourceName": "items"]) == ["owner": .null])

        let eve = try WireStoreClient(server)
        eve.login("eve", "password1234")
        #expect(eve.failure(["type": "store.insert", "bucket": "notes", "data": ["id": "1"]]) == "FORBIDDEN No access to store.insert on notes")
        let grant: JSONObject = ["type": "identity.grant", "subjectType": "user", "subjectId": .string(eveId),
                                 "resourceType": "bucket", "resourceName": "notes", "operations": ["write"]]
        func with(_ o: JSONObject, _ k: String, _ v: JSON) -> JSONObject { var x = o; x[k] = v; return x }
        #expect(eve.failure(grant) == "FORBIDDEN Must be the resource owner, admin, or have admin ACL to manage permissions")
        #expect(owner.failure(with(grant, "operations", "write")) == #"VALIDATION_ERROR Missing or invalid "operations": expected non-empty array"#)
        #expect(owner.failure(with(grant, "operations", [])) == "VALIDATION_ERROR Operations must be a non-empty array")
        #expect(owner.failure(with(grant, "operations", ["delete"])) == #"VALIDATION_ERROR Invalid ACL operation "delete". Valid operations: read, write, admin"#)
        #expect(owner.failure(with(grant, "subjectType", "group")) == #"VALIDATION_ERROR Invalid subject type "group". Must be "user" or "role""#)
        #expect(owner.failure(with(grant, "subjectId", "nope")) == "NOT_FOUND Subject user not found")
        #expect(owner.failure(with(with(grant, "subjectType", "role"), "subjectId", "nope")) == "NOT_FOUND Subject role not found")
        #expect(owner.data(grant) == ["granted": true])
        #expect(owner.data(with(grant, "operations", ["read", "write"])) == ["granted": true])  // merged
        #expect(eve.data(["type": "store.insert", "bucket": "notes", "data": ["id": "1"]])["id"] == "1")
        #expect(eve.data(["type": "store.get", "bucket": "notes", "key": "1"])["id"] == "1")
        #expect(owner.data(["type": "identity.getAcl", "resourceType": "bucket", "resourceName": "notes"]) == ["entries": [
            ["subjectType": "user", "subjectId": .string(ownerId), "subjectName": "owner", "operations": [], "isOwner": true],
            ["subjectType": "user", "subjectId": .string(eveId), "subjectName": "eve", "operations": ["write", "read"], "isOwner": false],
        ]])
        #expect(eve.data(["type": "identity.myAccess"]) == ["user": ["id": .string(eveId), "username": "eve", "roles": []],
            "resources": [["resourceType": "bucket", "resourceName": "notes", "operations": ["read", "write"], "isOwner": false]]])
        let revoke: JSONObject = ["type": "identity.revoke", "subjectType": "user", "subjectId": .string(eveId),
                                  "resourceType": "bucket", "resourceName": "notes", "operations": ["write"]]
        #expect(eve.failure(revoke) == "FORBIDDEN Must be the resource owner, admin, or have admin ACL to manage permissions")
        #expect(owner.data(revoke) == ["revoked": true])
        #expect(eve.failure(["type": "store.insert", "bucket": "notes", "data": ["id": "2"]]) == "FORBIDDEN No access to store.insert on notes")
        var whole = revoke
        whole["operations"] = nil
        #expect(owner.data(whole) == ["revoked": true])
        #expect(owner.failure(whole) == "NOT_FOUND ACL entry not found")

        // Ownership transfer.
        let transfer: JSONObject = ["type": "identity.transferOwner", "resourceType": "bucket", "resourceName": "notes", "newOwnerId": .string(eveId)]
        #expect(eve.failure(transfer) == "FORBIDDEN Only the owner or superadmin can transfer ownership")
        #expect(owner.failure(with(transfer, "newOwnerId", "nope")) == "NOT_FOUND New owner not found")
        #expect(owner.failure(with(transfer, "resourceName", "items")) == "NOT_FOUND Resource has no owner")
        #expect(owner.data(transfer) == ["transferred": true])
        #expect(eve.data(["type": "store.all", "bucket": "notes"]).arrayValue?.count == 1)  // owners have full access
        // dropBucket forgets the owner.
        _ = su.data(["type": "store.dropBucket", "name": "notes"])
        #expect(su.data(["type": "identity.getOwner", "resourceType": "bucket", "resourceName": "notes"]) == ["owner": .null])
    }
}
