import NoexJSON
import Testing

@testable import NoexStore

@Suite struct FilterTests {
    /// orders with amounts 100, 250, 75, 500, 150; `status` indexed.
    func ordersStore() throws -> Store {
        let store = makeStore()
        try store.defineBucket("orders", config: [
            "key": "id",
            "schema": ["id": ["type": "number", "generated": "autoincrement"], "amount": ["type": "number"],
                       "status": ["type": "string"], "shipping": ["type": "string"], "note": ["type": "string"]],
            "indexes": ["status"],
        ])
        let rows: [JSONObject] = [
            ["amount": 100, "status": "paid", "shipping": "Express delivery", "note": .null],
            ["amount": 250, "status": "pending", "shipping": "standard"],
            ["amount": 75, "status": "paid", "shipping": "EXPRESS"],
            ["amount": 500, "status": "cancelled", "shipping": "economy"],
            ["amount": 150, "status": "pending", "shipping": "Standard express"],
        ]
        for r in rows { _ = try store.insert(bucket: "orders", record: r) }
        return store
    }

    func ids(_ store: Store, _ filter: JSONObject) throws -> [JSON] {
        try store.where(bucket: "orders", filter: filter).field("id")
    }

    @Test func comparisonOperators() throws {
        let s = try ordersStore()
        #expect(try ids(s, ["amount": ["$gt": 150]]) == [2, 4])
        #expect(try ids(s, ["amount": ["$gte": 150]]) == [2, 4, 5])
        #expect(try ids(s, ["amount": ["$lt": 100]]) == [3])
        #expect(try ids(s, ["amount": ["$lte": 100]]) == [1, 3])
        #expect(try ids(s, ["amount": ["$gte": 100, "$lt": 250]]) == [1, 5])
        #expect(try ids(s, ["amount": ["$between": [100, 250]]]) == [1, 2, 5])
        #expect(try ids(s, ["amount": ["$eq": 75]]) == [3])
        #expect(try ids(s, ["amount": ["$neq": 75]]) == [1, 2, 4, 5])
        #expect(try ids(s, ["amount": ["$ne": 75]]) == [1, 2, 4, 5])
        // strings compare by code units; null/missing never match a comparison
        #expect(try ids(s, ["status": ["$gt": "p"]]) == [1, 2, 3, 5])
        #expect(try ids(s, ["note": ["$lt": "z"]]) == [])
        // mixed types use JavaScript coercion
        #expect(try ids(s, ["amount": ["$gt": "300"]]) == [4])
    }

    @Test func membershipAndStrings() throws {
        let s = try ordersStore()
        #expect(try ids(s, ["status": ["$in": ["paid", "cancelled"]]]) == [1, 3, 4])
        #expect(try ids(s, ["status": ["$in": []]]) == [])
        #expect(try ids(s, ["status": ["$nin": []]]) == [1, 2, 3, 4, 5])
        #expect(try ids(s, ["status": ["$nin": ["paid"]]]) == [2, 4, 5])
        #expect(try ids(s, ["shipping": ["$contains": "express"]]) == [1, 3, 5])
        #expect(try ids(s, ["shipping": ["$startsWith": "Express"]]) == [1])
        #expect(try ids(s, ["shipping": ["$startsWith": "express"]]) == [])
        #expect(try ids(s, ["shipping": ["$endsWith": "express"]]) == [5])
        #expect(try ids(s, ["amount": ["$contains": "1"]]) == [])  // only strings
    }

    @Test func existsAndUnknown() throws {
        let s = try ordersStore()
        #expect(try ids(s, ["note": ["$exists": true]]) == [])  // null counts as absent
        #expect(try ids(s, ["note": ["$exists": false]]) == [1, 2, 3, 4, 5])
        #expect(try ids(s, ["ghost": ["$exists": false]]).count == 5)
        #expect(try ids(s, ["ghost": ["$exists": true]]) == [])
        // Unknown operators are refused (the original ignored them, so a typo matched everything).
        #expect(throws: StoreError.invalidQuery(
            "Unknown filter operator \"$weird\" on field \"amount\"; valid operators: $eq, $neq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $contains, $startsWith, $endsWith, $exists, $between"
        )) { try ids(s, ["amount": ["$weird": 1]]) }
    }

    @Test func logicalOperators() throws {
        let s = try ordersStore()
        #expect(try ids(s, ["$or": [["status": "paid"], ["status": "pending"]]]) == [1, 2, 3, 5])
        #expect(try ids(s, ["$and": [["status": "paid"], ["amount": ["$gt": 80]]]]) == [1])
        #expect(try ids(s, ["status": "pending", "$or": [["amount": 150], ["amount": 500]]]) == [5])
        #expect(try ids(s, ["$or": [["$and": [["status": "paid"], ["amount": ["$lt": 80]]]], ["amount": 500]]]) == [3, 4])
        #expect(try ids(s, ["$or": []]) == [])
        #expect(try ids(s, ["$and": []]).count == 5)
    }

    @Test func plainEqualityIsStrict() throws {
        let s = try ordersStore()
        #expect(try ids(s, ["amount": "100"]) == [])
        #expect(try ids(s, ["amount": 100.0]) == [1])
        #expect(try ids(s, ["note": .null]) == [1])
        #expect(try ids(s, ["status": ["paid"]]) == [])  // arrays never equal
        #expect(try ids(s, ["status": [:]]) == [])  // {} is not an operator object
        #expect(try s.count(bucket: "orders", filter: ["status": "paid"]) == 2)
        #expect(try s.findOne(bucket: "orders", filter: ["status": "pending"])?["id"] == 2)
        #expect(try s.findOne(bucket: "orders", filter: [:])?["id"] == 1)
        #expect(try s.sum(bucket: "orders", field: "amount", filter: ["amount": ["$gt": 150]]) == 750)
        #expect(try s.avg(bucket: "orders", field: "amount", filter: ["status": "paid"]) == 87.5)
    }

    @Test func indexedAndScannedAgree() throws {
        let s = try ordersStore()
        // operator entries on an indexed field scan; plain entries use the index: same answers
        #expect(try ids(s, ["status": ["$eq": "pending"]]) == ids(s, ["status": "pending"]))
        _ = try s.update(bucket: "orders", key: 1, changes: ["status": "pending"])
        #expect(try ids(s, ["status": "pending"]) == [1, 2, 5])  // table order, not index order
        #expect(try ids(s, ["status": "pending", "amount": ["$gt": 120]]) == [2, 5])
    }

    @Test func topicPatterns() {
        #expect(topicMatches(pattern: "*", topic: "bucket.a.inserted"))
        #expect(topicMatches(pattern: "bucket.*.*", topic: "bucket.a.inserted"))
        #expect(topicMatches(pattern: "bucket.*", topic: "bucket.a.inserted"))
        #expect(topicMatches(pattern: "bucket.a.*", topic: "bucket.a.deleted"))
        #expect(!topicMatches(pattern: "bucket.b.*", topic: "bucket.a.deleted"))
        #expect(!topicMatches(pattern: "bucket.*.inserted", topic: "bucket.a.deleted"))
        #expect(!topicMatches(pattern: "*.x.*", topic: "bucket.a.b.c"))
    }
}
