import NoexJSON
import NoexStore

/// The validation of a `store.transaction` request (docs/protocol/store-operations.md): every operation is checked,
/// with the original's exact messages, before any of them runs.
enum TransactionRequest {
    static func operations(of request: Request) throws(ServerError) -> [TransactionOperation] {
        guard case .array(let items)? = request["operations"] else {
            throw ServerError(.validationError, "Missing or invalid \"operations\": expected array")
        }
        guard !items.isEmpty else {
            throw ServerError(.validationError, "\"operations\" must contain at least one operation")
        }
        var out: [TransactionOperation] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            out.append(try operation(item, at: i))
        }
        return out
    }

    private static func operation(_ item: JSON, at i: Int) throws(ServerError) -> TransactionOperation {
        func fail(_ m: String) -> ServerError { ServerError(.validationError, "operations[\(i)]: \(m)") }
        guard case .object(let o) = item else { throw fail("expected object") }
        let ops = ["get", "insert", "update", "delete", "where", "findOne", "count"]
        guard case .string(let op)? = o["op"], ops.contains(op) else {
            throw fail("invalid \"op\" — expected one of: get, insert, update, delete, where, findOne, count")
        }
        guard case .string(let bucket)? = o["bucket"], !bucket.isEmpty else { throw fail("missing or invalid \"bucket\"") }
        let key: JSON? = o["key"]?.nonNull
        func requireKey() throws(ServerError) -> JSON {
            guard let key else { throw fail("\"\(op)\" requires \"key\"") }
            return key
        }
        func requireData() throws(ServerError) -> JSONObject {
            guard case .object(let d)? = o["data"] else { throw fail("\"\(op)\" requires \"data\" object") }
            return d
        }
        func requireFilter() throws(ServerError) -> JSONObject {
            guard case .object(let f)? = o["filter"] else { throw fail("\"\(op)\" requires \"filter\" object") }
            return f
        }
        func version() throws(ServerError) -> Int64? {
            try Request.expectedVersion(o["expectedVersion"], context: "operations[\(i)]: ")
        }
        switch op {
        case "get": return .get(bucket: bucket, key: try requireKey())
        case "insert": return .insert(bucket: bucket, data: try requireData())
        case "update":
            let k = try requireKey()
            let data = try requireData()
            return .update(bucket: bucket, key: k, data: data, expectedVersion: try version())
        case "delete":
            let k = try requireKey()
            return .delete(bucket: bucket, key: k, expectedVersion: try version())
        case "where": return .where(bucket: bucket, filter: try requireFilter())
        case "findOne": return .findOne(bucket: bucket, filter: try requireFilter())
        default: return .count(bucket: bucket, filter: o["filter"]?.objectValue)
        }
    }
}
