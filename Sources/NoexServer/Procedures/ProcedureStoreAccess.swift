import NoexJSON
import NoexStore

/// Where the store steps of one call read and write: the live store (each step applies at once,
/// as in the original), or the call's store transaction (`transaction: true`: writes are
/// buffered, reads see them, and nothing applies unless every step succeeds).
enum ProcedureStoreAccess {
    case direct(Store)
    case transaction(Transaction)

    func get(_ bucket: String, _ key: JSON) throws(StoreError) -> JSONObject? {
        switch self {
        case .direct(let s): try s.get(bucket: bucket, key: key)
        case .transaction(let t): try t.get(bucket: bucket, key: key)
        }
    }

    func `where`(_ bucket: String, _ filter: JSONObject) throws(StoreError) -> [JSONObject] {
        switch self {
        case .direct(let s): try s.where(bucket: bucket, filter: filter)
        case .transaction(let t): try t.where(bucket: bucket, filter: filter)
        }
    }

    func findOne(_ bucket: String, _ filter: JSONObject) throws(StoreError) -> JSONObject? {
        switch self {
        case .direct(let s): try s.findOne(bucket: bucket, filter: filter)
        case .transaction(let t): try t.findOne(bucket: bucket, filter: filter)
        }
    }

    func count(_ bucket: String, _ filter: JSONObject?) throws(StoreError) -> Int {
        switch self {
        case .direct(let s): try s.count(bucket: bucket, filter: filter)
        case .transaction(let t): try t.count(bucket: bucket, filter: filter)
        }
    }

    func insert(_ bucket: String, _ data: JSONObject) throws(StoreError) -> JSONObject {
        switch self {
        case .direct(let s): try s.insert(bucket: bucket, record: data)
        case .transaction(let t): try t.insert(bucket: bucket, record: data)
        }
    }

    func update(_ bucket: String, _ key: JSON, _ changes: JSONObject) throws(StoreError) -> JSONObject {
        switch self {
        case .direct(let s): try s.update(bucket: bucket, key: key, changes: changes)
        case .transaction(let t): try t.update(bucket: bucket, key: key, changes: changes)
        }
    }

    func delete(_ bucket: String, _ key: JSON) throws(StoreError) {
        switch self {
        case .direct(let s): _ = try s.delete(bucket: bucket, key: key)
        case .transaction(let t): _ = try t.delete(bucket: bucket, key: key)
        }
    }
}
