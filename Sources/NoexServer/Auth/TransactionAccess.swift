import NoexJSON

/// The operations of a `store.transaction` as the permission check sees them: each one's
/// standalone request type and bucket. Malformed entries are skipped here; the request's
/// validation rejects them before anything runs.
enum TransactionAccess {
    static let operationTypes = [
        "get": "store.get", "insert": "store.insert", "update": "store.update", "delete": "store.delete",
        "where": "store.where", "findOne": "store.findOne", "count": "store.count",
    ]

    static func operations(of request: Request) -> [(type: String, bucket: String)] {
        guard case .array(let items)? = request["operations"] else { return [] }
        var out: [(String, String)] = []
        for case .object(let o) in items {
            guard let op = o["op"]?.stringValue, let type = operationTypes[op],
                  let bucket = o["bucket"]?.stringValue, !bucket.isEmpty else { continue }
            out.append((type, bucket))
        }
        return out
    }
}
