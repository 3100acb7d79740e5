import NoexCluster
import NoexJSON
import NoexStore

/// The store writes of the wire as log commands (docs/cluster.md#the-command-format), and their
/// outcomes as the single server's answers.
///
/// The request's own fields are checked here, on the origin, in the order and with the
/// messages of `StoreOperations`; everything that depends on the data (bucket exists, schema,
/// unique, `expectedVersion`) is decided when the entry is applied, the same way on every node.
enum ClusterRequest {
    /// Every `store.*` operation that changes the store.
    static let writes: Set<String> = [
        "store.insert", "store.update", "store.delete", "store.clear", "store.transaction",
        "store.defineBucket", "store.dropBucket", "store.updateBucket", "store.defineQuery", "store.undefineQuery",
    ]

    /// `hasBucket`: the single server refuses a query over a missing bucket before it looks at
    /// system buckets, so only the existing ones are checked here.
    static func operation(of r: Request, systemBuckets: SystemBuckets, hasBucket: (String) -> Bool) throws(ServerError) -> ClusterOperation {
        switch r.type {
        case "store.insert":
            let b = try r.nonEmptyString("bucket")
            return .insert(bucket: b, data: try r.object("data"))
        case "store.update":
            let b = try r.nonEmptyString("bucket")
            let k = try r.key()
            let changes = try r.object("data")
            return .update(bucket: b, key: k, data: changes, expectedVersion: try r.expectedVersion())
        case "store.delete":
            let b = try r.nonEmptyString("bucket")
            let k = try r.key()
            return .delete(bucket: b, key: k, expectedVersion: try r.expectedVersion())
        case "store.clear":
            return .clear(bucket: try r.nonEmptyString("bucket"))
        case "store.transaction":
            _ = try TransactionRequest.operations(of: r)
            return .transaction(operations: r["operations"]?.arrayValue ?? [])
        case "store.defineBucket":
            let name = try r.nonEmptyString("name")
            return .defineBucket(name: name, config: try r.object("config"))
        case "store.dropBucket":
            return .dropBucket(name: try r.nonEmptyString("name"))
        case "store.updateBucket":
            let name = try r.nonEmptyString("name")
            return .updateBucket(name: name, updates: try r.object("updates"))
        case "store.defineQuery":
            let name = try r.nonEmptyString("name")
            let config = try r.object("config")
            // The single server checks the buckets the defined query reads; here the query is
            // not defined yet, so every existing bucket its config names is checked.
            try systemBuckets.checkRead(bucketsNamed(in: .object(config)).filter(hasBucket))
            return .defineQuery(name: name, config: config)
        case "store.undefineQuery":
            return .undefineQuery(name: try r.nonEmptyString("name"))
        default:
            throw ServerError.unknownOperation(r.type, in: "store")
        }
    }

    /// Every string under a `bucket` key, at any depth (a query's own bucket and its lookups').
    static func bucketsNamed(in json: JSON) -> [String] {
        switch json {
        case .object(let o):
            var out: [String] = []
            for (k, v) in o {
                if k == "bucket", let b = v.stringValue { out.append(b) } else { out += bucketsNamed(in: v) }
            }
            return out
        case .array(let a): return a.flatMap(bucketsNamed(in:))
        default: return []
        }
    }

    /// The answer the single server gives for the same outcome (same code, message, details).
    static func answer(_ outcome: ClusterOutcome?, of r: Request, haltReason: String?) -> Result<JSON, ServerError> {
        switch outcome {
        case .applied(let data)?:
            return .success(data)
        case .rejected(let e)?:
            if let haltReason { return .failure(ServerError(.persistenceError, haltReason)) }
            switch (r.type, e) {
            case ("store.dropBucket", .bucketNotDefined(let n)), ("store.updateBucket", .bucketNotDefined(let n)):
                return .failure(StoreOperations.bucketDoesNotExist(n))
            case ("store.undefineQuery", .queryNotDefined(let n)):
                return .failure(ServerError(.queryNotDefined, "Query \"\(n)\" is not defined"))
            default:
                return .failure(ServerError(e))
            }
        case .failed(let code, let message, let details)?:
            return .failure(ServerError(ErrorCode(rawValue: code) ?? .internalError, message, details: details))
        case .invalid(let reason)?:
            return .failure(ServerError(.internalError, "the cluster log entry of this write could not be applied: \(reason)"))
        case nil:
            return .failure(.clusterUnavailable(haltReason ?? "this node stopped applying the cluster log"))
        }
    }
}

extension ServerError {
    /// A write that did not reach the cluster's log (or whose fate is unknown): the message says
    /// which, and what the client can do.
    /// `applied` is `"no"` when the write certainly did not happen, `"unknown"` when it may
    /// still be applied (on every node) if Redis recorded it before the link broke.
    static func clusterUnavailable(_ why: String, applied: String = "no") -> ServerError {
        ServerError(.clusterUnavailable, "The cluster log is unavailable: \(why)", details: ["applied": .string(applied)])
    }

}
