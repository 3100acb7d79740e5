import NoexJSON

/// The schema `noex-server` starts with when no config file is given: the buckets and queries
/// of exchanges recorded from the original server, so its exchanges can be replayed against a bare binary.
public enum DemoSchema {
    public static let buckets: [(name: String, definition: JSONObject)] = [
        ("users", [
            "key": "id",
            "schema": [
                "id": ["type": "string", "generated": "uuid"],
                "name": ["type": "string", "required": true],
                "email": ["type": "string"],
                "role": ["type": "string", "default": "user"],
                "age": ["type": "number"],
                "credits": ["type": "number", "default": 0],
            ],
        ]),
        ("products", [
            "key": "id",
            "schema": [
                "id": ["type": "string", "generated": "uuid"],
                "title": ["type": "string", "required": true],
                "price": ["type": "number", "default": 0],
                "stock": ["type": "number", "default": 0],
            ],
        ]),
        ("orders", [
            "key": "id",
            "schema": [
                "id": ["type": "string", "generated": "uuid"],
                "userId": ["type": "string"],
                "status": ["type": "string", "default": "pending"],
                "total": ["type": "number", "default": 0],
            ],
        ]),
        ("logs", [
            "key": "id",
            "schema": [
                "id": ["type": "string", "generated": "uuid"],
                "action": ["type": "string", "required": true],
                "userId": ["type": "string"],
            ],
        ]),
    ]

    public static let queries: [(name: String, definition: JSONObject)] = [
        ("all-users", ["bucket": "users"]),
        ("users-by-role", ["bucket": "users", "filter": ["role": "{{ params.role }}"]]),
        ("user-count", ["bucket": "users", "aggregate": ["function": "count"]]),
    ]
}
