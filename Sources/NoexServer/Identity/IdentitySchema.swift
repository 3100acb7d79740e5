import NoexJSON
import NoexStore

/// The system buckets of the built-in identity and the four system roles, as the original
/// defines them (docs/identity.md#storage).
enum IdentitySchema {
    static func definitions(sessionTtlMs: Int64) -> [(String, JSONObject)] {
        let uuid: JSON = ["type": "string", "generated": "uuid"]
        let string: JSON = ["type": "string"]
        let stamp: JSON = ["type": "number"]
        return [
            (SystemBuckets.users, [
                "key": "id",
                "schema": [
                    "id": uuid,
                    "username": ["type": "string", "required": true, "unique": true, "minLength": 3, "maxLength": 64],
                    "passwordHash": ["type": "string", "required": true],
                    "displayName": string,
                    "email": ["type": "string", "format": "email"],
                    "enabled": ["type": "boolean", "default": true],
                    "metadata": ["type": "object"],
                ],
                "indexes": ["username", "email"],
            ]),
            (SystemBuckets.roles, [
                "key": "id",
                "schema": [
                    "id": uuid,
                    "name": ["type": "string", "required": true, "unique": true, "minLength": 1, "maxLength": 64],
                    "description": string,
                    "system": ["type": "boolean", "default": false],
                    "permissions": ["type": "array"],
                ],
            ]),
            (SystemBuckets.userRoles, [
                "key": "id",
                "schema": ["id": uuid, "userId": ["type": "string", "required": true], "roleId": ["type": "string", "required": true],
                           "grantedBy": string, "grantedAt": stamp],
                "indexes": ["userId", "roleId"],
            ]),
            (SystemBuckets.acl, [
                "key": "id",
                "schema": [
                    "id": uuid,
                    "subjectType": ["type": "string", "required": true, "enum": ["user", "role"]],
                    "subjectId": ["type": "string", "required": true],
                    "resourceType": ["type": "string", "required": true, "enum": ["bucket", "topic", "procedure", "query"]],
                    "resourceName": ["type": "string", "required": true],
                    "operations": ["type": "array", "required": true],
                    "grantedBy": string, "grantedAt": stamp,
                ],
                "indexes": ["subjectId", "resourceName"],
            ]),
            (SystemBuckets.resourceOwners, [
                "key": "id",
                "schema": [
                    "id": uuid, "userId": ["type": "string", "required": true],
                    "resourceType": ["type": "string", "required": true, "enum": ["bucket", "topic", "procedure", "query"]],
                    "resourceName": ["type": "string", "required": true], "createdAt": stamp,
                ],
                "indexes": ["userId", "resourceName"],
            ]),
            // The key is the session token, chosen by the server from the CSPRNG. The bucket's TTL
            // follows `sessionTtl`, so the store purges a session when its token expires.
            (SystemBuckets.sessions, [
                "key": "id",
                "schema": ["id": ["type": "string", "required": true], "userId": ["type": "string", "required": true],
                           "expiresAt": stamp, "createdAt": stamp, "ip": string, "userAgent": string],
                "indexes": ["userId"],
                "ttl": .int(max(1000, sessionTtlMs)),
            ]),
        ]
    }

    static let storeRead = ["store.get", "store.all", "store.where", "store.findOne", "store.count", "store.first", "store.last",
                            "store.paginate", "store.sum", "store.avg", "store.min", "store.max", "store.subscribe",
                            "store.unsubscribe", "store.buckets", "store.stats"]
    static let storeWrite = ["store.insert", "store.update", "store.delete", "store.clear", "store.transaction"]
    static let rulesRead = ["rules.getFact", "rules.queryFacts", "rules.getAllFacts", "rules.subscribe", "rules.unsubscribe", "rules.stats"]
    static let rulesWrite = ["rules.emit", "rules.setFact", "rules.deleteFact"]

    /// The system roles and their permission lists (name, description, allow patterns).
    static let systemRoles: [(name: String, description: String, allow: [String])] = [
        ("superadmin", "Full system access", ["*"]),
        ("admin", "Administrative access", ["store.*", "rules.*", "procedures.*", "server.*", "audit.*",
                                            "identity.createUser", "identity.getUser", "identity.updateUser",
                                            "identity.deleteUser", "identity.listUsers", "identity.enableUser",
                                            "identity.disableUser", "identity.resetPassword", "identity.listRoles",
                                            "identity.assignRole", "identity.removeRole", "identity.getUserRoles",
                                            "identity.grant", "identity.revoke", "identity.getAcl"]),
        ("writer", "Read and write data", storeWrite + storeRead + rulesWrite + rulesRead + ["procedures.call", "procedures.get"]),
        ("reader", "Read-only access", storeRead + rulesRead + ["procedures.get"]),
    ]
}
