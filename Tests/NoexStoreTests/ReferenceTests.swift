import NoexJSON
import Testing

@testable import NoexStore

/// Foreign keys (docs/store.md).
@Suite struct ReferenceTests {
    func store(onDelete: String) throws -> Store {
        let s = makeStore()
        try s.defineBucket("users", config: ["key": "id", "schema": ["id": ["type": "string"], "name": ["type": "string"]]])
        try s.defineBucket("roles", config: ["key": "id", "schema": ["id": ["type": "string"]]])
        try s.defineBucket("user_roles", config: [
            "key": "id",
            "schema": ["id": ["type": "number", "generated": "autoincrement"],
                       "userId": ["type": "string", "ref": "users", "onDelete": .string(onDelete)],
                       "roleId": ["type": "string", "ref": "roles"]],
        ])
        _ = try s.insert(bucket: "users", record: ["id": "u1"])
        _ = try s.insert(bucket: "users", record: ["id": "u2"])
        _ = try s.insert(bucket: "roles", record: ["id": "admin"])
        _ = try s.insert(bucket: "user_roles", record: ["userId": "u1", "roleId": "admin"])
        return s
    }

    @Test func insertAndUpdateNeedExistingTargets() throws {
        let s = try store(onDelete: "restrict")
        let err = catchError { _ = try s.insert(bucket: "user_roles", record: ["userId": "ghost", "roleId": "admin"]) }
        #expect(err == .referentialIntegrity(sourceBucket: "user_roles", sourceField: "userId", targetBucket: "users", targetKey: "ghost", restrictedDelete: false))
        #expect(err?.name == "ReferentialIntegrityError" && err?.code == "INTERNAL_ERROR")
        #expect(catchError { _ = try s.update(bucket: "user_roles", key: 1, changes: ["roleId": "nope"]) }?.name == "ReferentialIntegrityError")
        _ = try s.update(bucket: "user_roles", key: 1, changes: ["userId": "u2"])
        _ = try s.insert(bucket: "user_roles", record: ["userId": .null, "roleId": "admin"])  // null is allowed
        #expect(catchError { _ = try s.insertMany(bucket: "user_roles", records: [["userId": "u1"], ["userId": "x"]]) }?.name == "ReferentialIntegrityError")
        #expect(try s.count(bucket: "user_roles") == 2)
        // transactions are not checked (upstream)
        _ = try s.runTransaction([.insert(bucket: "user_roles", data: ["userId": "ghost"])])
    }

    @Test func restrict() throws {
        let s = try store(onDelete: "restrict")
        let err = catchError { _ = try s.delete(bucket: "users", key: "u1") }
        #expect(err?.message == "Cannot delete record with key \"u1\" from bucket \"users\": it is referenced by field \"userId\" in bucket \"user_roles\"")
        #expect(try s.get(bucket: "users", key: "u1") != nil)
        #expect(try s.delete(bucket: "users", key: "u2"))  // unreferenced
        #expect(catchError { _ = try s.deleteMany(bucket: "users", filter: [:]) }?.name == "ReferentialIntegrityError")
        #expect(try s.count(bucket: "users") == 1)
        try s.delete(bucket: "user_roles", key: 1)
        #expect(try s.delete(bucket: "users", key: "u1"))
    }

    @Test func cascadeAndSetNull() throws {
        let s = try store(onDelete: "cascade")
        var events: [String] = []
        s.addEventListener { events.append("\($0.topic):\(JSValue.string($0.key))") }
        #expect(try s.delete(bucket: "users", key: "u1"))
        #expect(events == ["bucket.users.deleted:u1", "bucket.user_roles.deleted:1"])
        #expect(try s.count(bucket: "user_roles") == 0)

        let n = try store(onDelete: "set_null")
        try n.delete(bucket: "users", key: "u1")
        let link = try n.get(bucket: "user_roles", key: 1)
        #expect(link?["userId"] == .null && link?["_version"] == 2)
        // roleId is restrict (the default): deleting the role is refused
        #expect(catchError { _ = try n.delete(bucket: "roles", key: "admin") }?.name == "ReferentialIntegrityError")
    }

    @Test func cascadeCyclesTerminate() throws {
        let s = makeStore()
        try s.defineBucket("nodes", config: ["key": "id", "schema": ["id": ["type": "string"], "next": ["type": "string", "ref": "nodes", "onDelete": "cascade"]]])
        _ = try s.insert(bucket: "nodes", record: ["id": "a"])
        _ = try s.insert(bucket: "nodes", record: ["id": "b", "next": "a"])
        _ = try s.update(bucket: "nodes", key: "a", changes: ["next": "b"])
        _ = try s.insert(bucket: "nodes", record: ["id": "c", "next": "b"])
        try s.delete(bucket: "nodes", key: "a")
        #expect(try s.count(bucket: "nodes") == 0)
    }

    @Test func definitionChecks() throws {
        let s = makeStore()
        #expect(catchError { try s.defineBucket("x", config: ["key": "id", "schema": ["id": ["type": "string"], "u": ["type": "string", "ref": "users", "onDelete": "set_null", "required": true]]]) }?.code == "INTERNAL_ERROR")
        #expect(catchError { try s.defineBucket("x", config: ["key": "id", "schema": ["id": ["type": "string"], "u": ["type": "string", "ref": "users", "onDelete": "explode"]]]) }?.code == "INTERNAL_ERROR")
        // a ref to an undefined bucket is not checked
        try s.defineBucket("x", config: ["key": "id", "schema": ["id": ["type": "string"], "u": ["type": "string", "ref": "later"]]])
        _ = try s.insert(bucket: "x", record: ["id": "1", "u": "anything"])
    }
}
