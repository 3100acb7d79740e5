import NoexJSON
import NoexPersistence
import NoexStore

/// The registered procedures, kept in the system bucket `_procedures` (one record per procedure:
/// `{name, definition}`), so that whichever storage engine runs persists them with the rest of
/// the store and restores them at start, and a failed commit undoes a registration together
/// with the store's other writes. The bucket is created on the first registration; data
/// operations cannot reach it (SystemBuckets).
struct ProcedureTable {
    static let bucket = SystemBuckets.procedures
    static let bucketConfig: JSONObject = [
        "key": "name",
        "schema": ["name": ["type": "string", "required": true], "definition": ["type": "object", "required": true]],
    ]

    let store: Store
    /// Durable storage: the bucket's definition is committed when it is created.
    let journal: (any SchemaJournal)?

    /// The definition as registered (or last updated).
    func definition(_ name: String) -> JSONObject? {
        guard store.hasBucket(Self.bucket), let record = try? store.get(bucket: Self.bucket, key: .string(name)) else {
            return nil
        }
        return record["definition"]?.objectValue
    }

    /// Every definition, in registration order.
    func all() -> [JSONObject] {
        guard let records = try? store.all(bucket: Self.bucket) else { return [] }
        return records.compactMap { $0["definition"]?.objectValue }
    }

    func insert(_ name: String, _ definition: JSONObject) throws(ServerError) {
        try ensureBucket()
        try write { () throws(StoreError) in
            _ = try store.insert(bucket: Self.bucket, record: ["name": .string(name), "definition": .object(definition)])
        }
    }

    func replace(_ name: String, _ definition: JSONObject) throws(ServerError) {
        try write { () throws(StoreError) in
            _ = try store.update(bucket: Self.bucket, key: .string(name), changes: ["definition": .object(definition)])
        }
    }

    /// False when there was no such procedure.
    func remove(_ name: String) throws(ServerError) -> Bool {
        guard definition(name) != nil else { return false }
        try write { () throws(StoreError) in _ = try store.delete(bucket: Self.bucket, key: .string(name)) }
        return true
    }

    private func write(_ body: () throws(StoreError) -> Void) throws(ServerError) {
        do throws(StoreError) { try body() } catch { throw ServerError(.internalError, error.message) }
    }

    private func ensureBucket() throws(ServerError) {
        guard !store.hasBucket(Self.bucket) else { return }
        do throws(StoreError) { try store.defineBucket(Self.bucket, config: Self.bucketConfig) } catch {
            throw ServerError(.internalError, error.message)
        }
        guard let journal else { return }
        do throws(PersistenceError) {
            try journal.bucketDefined(Self.bucket, config: store.getBucketSchema(Self.bucket)!)
        } catch {
            _ = store.dropBucket(Self.bucket)
            throw ServerError(.persistenceError, error.message)
        }
    }
}
