import NoexStore

extension ServerError {
    /// The library error mapping of docs/protocol/envelope.md: the store already knows its wire code,
    /// message and details; an unknown code (never expected) becomes `INTERNAL_ERROR`.
    init(_ error: StoreError) {
        self.init(ErrorCode(rawValue: error.code) ?? .internalError, error.message, details: error.details)
    }
}
