/// The error codes of the wire protocol (docs/protocol/envelope.md), spelled as they travel.
public enum ErrorCode: String, Sendable, CaseIterable {
    case parseError = "PARSE_ERROR"
    case invalidRequest = "INVALID_REQUEST"
    case unknownOperation = "UNKNOWN_OPERATION"
    case validationError = "VALIDATION_ERROR"
    case notFound = "NOT_FOUND"
    case alreadyExists = "ALREADY_EXISTS"
    case conflict = "CONFLICT"
    case unauthorized = "UNAUTHORIZED"
    case forbidden = "FORBIDDEN"
    case rateLimited = "RATE_LIMITED"
    /// Sent when a response cannot be queued because the connection is over its hard write limit.
    case backpressure = "BACKPRESSURE"
    case internalError = "INTERNAL_ERROR"
    case bucketNotDefined = "BUCKET_NOT_DEFINED"
    case queryNotDefined = "QUERY_NOT_DEFINED"
    case rulesNotAvailable = "RULES_NOT_AVAILABLE"
    case sessionRevoked = "SESSION_REVOKED"
    /// Our extension: the commit of a write to durable storage failed; the write was undone.
    case persistenceError = "PERSISTENCE_ERROR"
    /// Our extension (cluster mode): a write could not go through the cluster's log (Redis
    /// unreachable, the node stopped following the log) or the operation is not replicated.
    case clusterUnavailable = "CLUSTER_UNAVAILABLE"
}
