import NoexJSON
import NoexPersistence
import NoexStore

/// The `store.*` operations that need no connection state (docs/protocol/store-operations.md):
/// validation in the original's order (`bucket` first, then the fields as listed), then the
/// store call, with store errors mapped per docs/protocol/envelope.md. Subscriptions live in the connection layer.
struct StoreOperations {
    let store: Store
    /// Durable storage: schema changes commit on their own before they are answered.
    var durable: (any SchemaJournal)?
    /// The server's own buckets, out of reach of every data operation.
    var systemBuckets = SystemBuckets()

    /// `r` is inout for `store.insert` only, which takes its `data` member (`insert`); every
    /// other operation reads it in place (an inout request all the way down cost two copies
    /// of it per `store.get`).
    func handle(_ r: inout Request) throws(ServerError) -> JSON {
        try systemBuckets.check(r, queryBuckets: store.bucketsRead(byQuery:))
        if r.operation == .storeInsert {
            return try ServerError.mapping({ (e: StoreError) in ServerError(e) }) { try insert(&r) }
        }
        return try handle(borrowing: r)
    }

    /// Every operation but `store.insert`. A separate function, so the closure below captures
    /// a borrowed request: capturing the inout one copied the whole request first.
    private func handle(borrowing r: Request) throws(ServerError) -> JSON {
        try ServerError.mapping({ (e: StoreError) in ServerError(e) }) { try dispatch(r) }
    }

    private func insert(_ r: inout Request) throws -> JSON {
        let b = try r.nonEmptyString(.bucket)
        // Taken out of the request, not copied: the store grows the object into the record in
        // place instead of copying it (nothing reads a store request's `data` after its
        // handler; the audit log records no details of store operations).
        return .object(try store.insert(bucket: b, record: try r.takeObject(.data)))
    }

    private func dispatch(_ r: Request) throws -> JSON {
        switch r.operation {
        case .storeGet:
            let b = try r.nonEmptyString(.bucket)
            return try store.get(bucket: b, key: try r.key()).map(JSON.object) ?? .null
        case .storeUpdate:
            let b = try r.nonEmptyString(.bucket)
            let k = try r.key()
            let changes = try r.object("data")
            return .object(try store.update(bucket: b, key: k, changes: changes, expectedVersion: try r.expectedVersion()))
        case .storeDelete:
            let b = try r.nonEmptyString(.bucket)
            let k = try r.key()
            _ = try store.delete(bucket: b, key: k, expectedVersion: try r.expectedVersion())
            return ["deleted": true]
        case .storeAll:
            return records(try store.all(bucket: try r.nonEmptyString(.bucket)))
        case .storeWhere:
            let b = try r.nonEmptyString(.bucket)
            return records(try store.where(bucket: b, filter: try r.object("filter")))
        case .storeFindOne:
            let b = try r.nonEmptyString(.bucket)
            return try store.findOne(bucket: b, filter: try r.object("filter")).map(JSON.object) ?? .null
        case .storeCount:
            let b = try r.nonEmptyString(.bucket)
            return .int(Int64(try store.count(bucket: b, filter: try r.optionalObject("filter"))))
        case .storeFirst:
            let b = try r.nonEmptyString(.bucket)
            return records(try store.first(bucket: b, n: try r.positiveInteger("n")))
        case .storeLast:
            let b = try r.nonEmptyString(.bucket)
            return records(try store.last(bucket: b, n: try r.positiveInteger("n")))
        case .storePaginate:
            let b = try r.nonEmptyString(.bucket)
            let limit = try r.positiveInteger("limit")
            return try store.paginate(bucket: b, after: r["after"], limit: limit).json
        case .storeClear:
            try store.clear(bucket: try r.nonEmptyString(.bucket))
            return ["cleared": true]
        case .storeSum, .storeAvg, .storeMin, .storeMax:
            let b = try r.nonEmptyString(.bucket)
            let field = try r.nonEmptyString("field")
            let filter = try r.optionalObject("filter")
            switch r.operation {
            case .storeSum: return try store.sum(bucket: b, field: field, filter: filter)
            case .storeAvg: return try store.avg(bucket: b, field: field, filter: filter)
            case .storeMin: return try store.min(bucket: b, field: field, filter: filter)
            default: return try store.max(bucket: b, field: field, filter: filter)
            }
        case .storeBuckets:
            return .object(systemBuckets.visible(store.bucketsInfo()))
        case .storeStats:
            return .object(store.stats())
        case .storeTransaction:
            let ops = try TransactionRequest.operations(of: r)
            let results = try store.runTransaction(ops)
            return ["results": .array(results.enumerated().map { ["index": .int(Int64($0.offset)), "data": $0.element] })]
        case .storeDefineBucket:
            let name = try r.nonEmptyString("name")
            try store.defineBucket(name, config: try r.object("config"))
            try persist({ (d: any SchemaJournal) throws(PersistenceError) in try d.bucketDefined(name, config: store.getBucketSchema(name)!) }, undo: { store.dropBucket(name) })
            return ["name": .string(name), "created": true]
        case .storeDropBucket:
            let name = try r.nonEmptyString("name")
            guard store.hasBucket(name) else { throw Self.bucketDoesNotExist(name) }
            // On disk first: if that fails, the bucket stays as it is.
            try persist({ (d: any SchemaJournal) throws(PersistenceError) in try d.bucketDropped(name) })
            store.dropBucket(name)
            return ["name": .string(name), "dropped": true]
        case .storeUpdateBucket:
            let name = try r.nonEmptyString("name")
            let updates = try r.object("updates")
            guard store.hasBucket(name) else { throw Self.bucketDoesNotExist(name) }
            let before = store.getBucketSchema(name)!
            try store.updateBucket(name, updates: updates)
            try persist({ (d: any SchemaJournal) throws(PersistenceError) in try d.bucketUpdated(name, config: store.getBucketSchema(name)!) },
                        undo: { try? store.restoreBucketDefinition(name, before) })
            return ["name": .string(name), "updated": true]
        case .storeGetBucketSchema:
            let name = try r.nonEmptyString("name")
            guard let config = store.getBucketSchema(name) else { throw Self.bucketDoesNotExist(name) }
            return ["name": .string(name), "config": .object(config)]
        case .storeDefineQuery:
            let name = try r.nonEmptyString("name")
            let config = try r.object("config")
            try store.defineQuery(name, config: config)
            do throws(ServerError) { try systemBuckets.checkRead(store.bucketsRead(byQuery: name) ?? []) } catch {
                store.undefineQuery(name)
                throw error
            }
            try persist({ (d: any SchemaJournal) throws(PersistenceError) in try d.queryDefined(name, config: config) }, undo: { store.undefineQuery(name) })
            return ["name": .string(name), "defined": true]
        case .storeUndefineQuery:
            let name = try r.nonEmptyString("name")
            guard store.hasQuery(name) else { throw ServerError(.queryNotDefined, "Query \"\(name)\" is not defined") }
            try persist({ (d: any SchemaJournal) throws(PersistenceError) in try d.queryDefined(name, config: nil) })
            store.undefineQuery(name)
            return ["name": .string(name), "undefined": true]
        case .storeListQueries:
            return ["queries": .array(store.listQueries())]
        default:
            throw ServerError.unknownOperation(r.type, in: "store")
        }
    }

    /// Commits a schema change; on failure undoes it in memory and answers PERSISTENCE_ERROR.
    private func persist(_ change: (any SchemaJournal) throws(PersistenceError) -> Void, undo: () -> Void = {}) throws(ServerError) {
        guard let durable else { return }
        do throws(PersistenceError) { try change(durable) } catch {
            undo()
            throw ServerError(.persistenceError, error.message)
        }
    }

    private func records(_ list: [JSONObject]) -> JSON { .array(list.map(JSON.object)) }

    static func bucketDoesNotExist(_ name: String) -> ServerError {
        ServerError(.bucketNotDefined, "Bucket \"\(name)\" does not exist")
    }
}
