/// A request's `type` as one of the operations the server counts and routes by number: the
/// slots of `OperationTable`, in its order (`OperationTableTests` checks that every case names
/// the table's entry at its raw value). Looked up once per request from the type's bytes, so
/// routing, the store handlers, the system-bucket guard and the metrics switch on an integer
/// instead of comparing strings. Every type outside the table is `.other`; the router then
/// falls back to the type's text (namespaces without table entries, unknown operations).
enum RequestOperation: Int, CaseIterable, Sendable {
    case storeInsert, storeGet, storeUpdate, storeDelete, storeAll, storeWhere, storeFindOne
    case storeCount, storeFirst, storeLast, storePaginate, storeClear, storeSum, storeAvg, storeMin
    case storeMax, storeBuckets, storeStats, storeTransaction, storeSubscribe, storeUnsubscribe
    case storeDefineBucket, storeDropBucket, storeUpdateBucket, storeGetBucketSchema, storeDefineQuery
    case storeUndefineQuery, storeListQueries
    case rulesEmit, rulesSetFact, rulesGetFact, rulesDeleteFact, rulesQueryFacts, rulesGetAllFacts
    case rulesStats, rulesSubscribe, rulesUnsubscribe, rulesRegisterRule, rulesUnregisterRule
    case rulesUpdateRule, rulesEnableRule, rulesDisableRule, rulesGetRule, rulesGetRules
    case rulesValidateRule
    case authLogin, authLogout, authWhoami
    case serverStats, serverConnections
    case other, invalid

    /// One of the `store.*` operations in the table (`store.subscribe`/`unsubscribe` included).
    var isStore: Bool { rawValue <= Self.storeListQueries.rawValue }

    /// The operation `type` names, `.other` when the table does not list it.
    init(type: String) {
        // The commonest reads first: as small strings they compare as two words each (a
        // mismatch costs a short runtime call), against ~150 instructions for the table's hash.
        switch type {
        case "store.get": self = .storeGet
        case "store.insert": self = .storeInsert
        case "store.where": self = .storeWhere
        default: self = Self(rawValue: OperationTable.shared.index(of: type)) ?? .other
        }
    }
}
