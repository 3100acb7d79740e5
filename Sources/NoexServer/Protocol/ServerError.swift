import NoexJSON

/// A request-scope failure: becomes one `{"type":"error"}` answer and the connection lives.
///
/// `details` is omitted from the wire when `nil` (never sent as `null`) and dropped entirely
/// when the server runs with `exposeErrorDetails: false`.
public struct ServerError: Error, Equatable, Sendable {
    public var code: ErrorCode
    public var message: String
    public var details: JSON?

    public init(_ code: ErrorCode, _ message: String, details: JSON? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }
}

// MARK: - The server's own messages (docs/protocol/envelope.md), in one place

extension ServerError {
    static let invalidJSON = ServerError(.parseError, "Invalid JSON")
    static let notAnObject = ServerError(.parseError, "Message must be a JSON object")
    static let missingType = ServerError(.invalidRequest, "Message must include non-empty string \"type\"")
    static let badPongTimestamp = ServerError(.invalidRequest, "Pong must include finite numeric \"timestamp\"")
    static let missingID = ServerError(.invalidRequest, "Request must include finite numeric \"id\"")

    static let authenticationRequired = ServerError(.unauthorized, "Authentication required")
    static let sessionExpired = ServerError(.unauthorized, "Session expired")
    static let invalidToken = ServerError(.unauthorized, "Invalid token")
    static let tokenExpired = ServerError(.unauthorized, "Token has expired")
    static let sessionRevoked = ServerError(.sessionRevoked, "Session has been revoked")
    static let internalServerError = ServerError(.internalError, "Internal server error")

    static let rulesNotConfigured = ServerError(.rulesNotAvailable, "Rule engine is not configured")
    static let authNotConfigured = ServerError(.unknownOperation, "Authentication is not configured")
    static let identityNotConfigured = ServerError(.unknownOperation, "Identity management is not configured")
    static let auditNotConfigured = ServerError(.unknownOperation, "Audit log is not configured")

    static func unknownOperation(_ type: String) -> ServerError {
        ServerError(.unknownOperation, "Unknown operation \"\(type)\"")
    }

    /// `namespace` is the word the original uses: store, rules, auth, identity, audit, procedures, server.
    static func unknownOperation(_ type: String, in namespace: String) -> ServerError {
        ServerError(.unknownOperation, "Unknown \(namespace) operation \"\(type)\"")
    }

    static func noAccess(_ type: String, _ resource: String) -> ServerError {
        ServerError(.forbidden, "No access to \(type) on \(resource)")
    }

    static func roleLevelInsufficient(_ type: String, _ tier: OperationTier) -> ServerError {
        ServerError(.forbidden, "Role level insufficient for \(type) (requires \(tier.rawValue))")
    }

    static func noPermission(_ type: String, _ resource: String) -> ServerError {
        ServerError(.forbidden, "No permission for \(type) on \(resource)")
    }

    static func rateLimitExceeded(retryAfterMs: Int64) -> ServerError {
        ServerError(
            .rateLimited, "Rate limit exceeded. Retry after \(retryAfterMs)ms",
            details: ["retryAfterMs": .int(retryAfterMs)])
    }

    static func subscriptionLimit(perConnection max: Int) -> ServerError {
        ServerError(.rateLimited, "Subscription limit reached (max \(max) per connection)")
    }

    static func globalSubscriptionLimit(_ max: Int) -> ServerError {
        ServerError(.rateLimited, "Global subscription limit reached (max \(max))")
    }

    static func subscriptionNotFound(_ id: String) -> ServerError {
        ServerError(.notFound, "Subscription \"\(id)\" not found")
    }

    static let backpressure = ServerError(.backpressure, "Write buffer full, slow down")
}

extension ServerError {
    /// Runs an operation backed by a library (store, rules) and maps what it throws: a
    /// `ServerError` passes through, the library's own error type goes through `map` (docs/protocol/envelope.md),
    /// anything else becomes `INTERNAL_ERROR`.
    static func mapping<LibraryError: Error>(
        _ map: (LibraryError) -> ServerError, _ body: () throws -> JSON
    ) throws(ServerError) -> JSON {
        do {
            return try body()
        } catch let e as LibraryError {
            throw map(e)
        } catch let e as ServerError {
            throw e
        } catch {
            throw .internalServerError
        }
    }
}
