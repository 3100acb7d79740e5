import NoexJSON

/// The wire error codes the rules layer can produce (docs/protocol/rules-operations.md). The raw value is the
/// `code` written into the error frame.
public enum RulesErrorCode: String, Sendable, Equatable {
    case validation = "VALIDATION_ERROR"
    case notFound = "NOT_FOUND"
    case alreadyExists = "ALREADY_EXISTS"
    case notAvailable = "RULES_NOT_AVAILABLE"
    case internalError = "INTERNAL_ERROR"
}

/// An engine error as a value, already shaped as the original's `mapRulesError` shapes it:
/// the wire layer copies `code`, `message` and (if present) `details` into the error frame.
public struct RulesError: Error, Equatable, Sendable {
    public let code: RulesErrorCode
    public let message: String
    /// `details` of the error frame; the validation issues for `VALIDATION_ERROR`.
    public let details: JSON?

    public init(_ code: RulesErrorCode, _ message: String, details: JSON? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }

    static func notRunning(_ name: String) -> RulesError {
        RulesError(.notAvailable, "RuleEngine \"\(name)\" is not running")
    }

    static func ruleNotFound(_ id: String) -> RulesError { RulesError(.notFound, "Rule \"\(id)\" not found") }
}

/// A failure inside rule evaluation (a bad reference, an invalid duration, a missing service).
/// It never leaves the engine: it is contained to the action or rule that raised it, counted,
/// and logged (docs/rules.md#semantics-in-brief).
struct EvaluationError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
