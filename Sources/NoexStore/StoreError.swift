import NoexJSON

/// One schema violation found while validating a record.
public struct ValidationIssue: Equatable, Sendable {
    public var field: String
    public var message: String
    public var code: String

    public init(field: String, message: String, code: String) {
        self.field = field
        self.message = message
        self.code = code
    }

    /// `{field, message, code}` as the wire's `details` entries.
    public var json: JSON { ["field": .string(field), "message": .string(message), "code": .string(code)] }
}

/// Every failure the store reports. Errors are values: a failed call leaves the store unchanged.
///
/// `name` is the original library's error class name, `message` its exact text, `code` the wire
/// error code the server answers with and `details` the wire `details` (if any).
public enum StoreError: Error, Equatable, Sendable {
    case validation(bucket: String, issues: [ValidationIssue])
    case uniqueConstraint(bucket: String, field: String, value: JSON)
    case recordAlreadyExists(bucket: String, key: JSON)
    /// `insertMany` given the same key twice.
    case duplicateKeyInBatch(bucket: String, key: JSON)
    case recordNotFound(bucket: String, key: JSON)
    case bucketAlreadyExists(String)
    case bucketNotDefined(String)
    case transactionConflict(bucket: String, key: JSON, detail: String)
    /// `expectedVersion` was given and the record's `_version` is different (our extension).
    case versionConflict(bucket: String, key: JSON, expected: Int64, actual: JSON)
    case queryAlreadyDefined(String)
    case queryNotDefined(String)
    /// A foreign key (`ref`) points to a missing record, or a delete is restricted by referrers.
    case referentialIntegrity(sourceBucket: String, sourceField: String, targetBucket: String, targetKey: JSON, restrictedDelete: Bool)
    /// A declarative query config that cannot be run (bad shape, negative limit, ...).
    case invalidQuery(String)
    /// A plain `Error` of the original: bad bucket definition, bad TTL, bad update of a bucket.
    case invalidDefinition(String)

    public var name: String {
        switch self {
        case .validation: return "ValidationError"
        case .uniqueConstraint: return "UniqueConstraintError"
        case .recordAlreadyExists: return "RecordAlreadyExistsError"
        case .duplicateKeyInBatch: return "DuplicateKeyError"
        case .recordNotFound: return "RecordNotFoundError"
        case .bucketAlreadyExists: return "BucketAlreadyExistsError"
        case .bucketNotDefined: return "BucketNotDefinedError"
        case .transactionConflict: return "TransactionConflictError"
        case .versionConflict: return "VersionConflictError"
        case .queryAlreadyDefined: return "QueryAlreadyDefinedError"
        case .queryNotDefined: return "QueryNotDefinedError"
        case .referentialIntegrity: return "ReferentialIntegrityError"
        case .invalidQuery: return "QueryValidationError"
        case .invalidDefinition: return "Error"
        }
    }

    public var message: String {
        switch self {
        case .validation(let bucket, let issues):
            let parts = issues.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
            return "Validation failed for bucket \"\(bucket)\": \(parts)"
        case .uniqueConstraint(let bucket, let field, let value):
            return "Unique constraint violation in bucket \"\(bucket)\": field \"\(field)\" already has value \"\(JSValue.string(value))\""
        case .recordAlreadyExists(let bucket, let key):
            return "Record with key \"\(JSValue.string(key))\" already exists in bucket \"\(bucket)\""
        case .duplicateKeyInBatch(let bucket, let key):
            return "Duplicate key \"\(JSValue.string(key))\" in batch for bucket \"\(bucket)\""
        case .recordNotFound(let bucket, let key):
            return "Record with key \"\(JSValue.string(key))\" not found in bucket \"\(bucket)\""
        case .bucketAlreadyExists(let b): return "Bucket \"\(b)\" already exists"
        case .bucketNotDefined(let b): return "Bucket \"\(b)\" is not defined"
        case .transactionConflict(let bucket, let key, let detail):
            return "Transaction conflict in bucket \"\(bucket)\" for key \"\(JSValue.string(key))\": \(detail)"
        case .versionConflict(let bucket, let key, let expected, let actual):
            return "Version conflict in bucket \"\(bucket)\" for key \"\(JSValue.string(key))\": expected version \(expected), "
                + "actual version \(JSValue.string(actual)); read the record again and retry"
        case .queryAlreadyDefined(let q): return "Query \"\(q)\" is already defined"
        case .queryNotDefined(let q): return "Query \"\(q)\" is not defined"
        case .referentialIntegrity(let sb, let sf, let tb, let tk, let restricted):
            if restricted {
                return "Cannot delete record with key \"\(JSValue.string(tk))\" from bucket \"\(tb)\": it is referenced by field \"\(sf)\" in bucket \"\(sb)\""
            }
            return "Referential integrity violation in bucket \"\(sb)\": field \"\(sf)\" references missing key \"\(JSValue.string(tk))\" in bucket \"\(tb)\""
        case .invalidQuery(let m): return m
        case .invalidDefinition(let m): return m
        }
    }

    /// The wire error code (docs/protocol/envelope.md#error-codes; decisions in docs/protocol/deviations.md).
    public var code: String {
        switch self {
        case .validation, .invalidQuery: return "VALIDATION_ERROR"
        case .uniqueConstraint, .recordAlreadyExists, .duplicateKeyInBatch, .bucketAlreadyExists, .queryAlreadyDefined:
            return "ALREADY_EXISTS"
        case .recordNotFound: return "NOT_FOUND"
        case .bucketNotDefined: return "BUCKET_NOT_DEFINED"
        case .transactionConflict, .versionConflict: return "CONFLICT"
        case .queryNotDefined: return "QUERY_NOT_DEFINED"
        case .invalidDefinition, .referentialIntegrity: return "INTERNAL_ERROR"
        }
    }

    /// The wire `details`, or nil when the error carries none.
    public var details: JSON? {
        switch self {
        case .validation(_, let issues): return .array(issues.map(\.json))
        case .uniqueConstraint(let bucket, let field, let value):
            return ["bucket": .string(bucket), "field": .string(field), "value": value]
        case .recordAlreadyExists(let bucket, let key), .recordNotFound(let bucket, let key),
            .duplicateKeyInBatch(let bucket, let key),
            .transactionConflict(let bucket, let key, _):
            return ["bucket": .string(bucket), "key": key]
        case .versionConflict(let bucket, let key, let expected, let actual):
            return ["bucket": .string(bucket), "key": key, "expectedVersion": .int(expected), "actualVersion": actual]
        default: return nil
        }
    }
}

extension StoreError: CustomStringConvertible {
    public var description: String { "\(name): \(message)" }
}
