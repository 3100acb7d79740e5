/// What a request is authorised against: the field the operation really acts on (the audit in
/// docs/security.md). The original took `bucket`, else `name`, else `topic`, `key`, `pattern`
/// — whichever was present — so a request could carry an allowed decoy field beside the one
/// the operation used.
public enum AccessResource: Equatable, Sendable {
    /// One bucket, topic, fact key, query or name; `*` means "everything".
    case name(String)
    /// A `rules.subscribe` pattern (subscription matcher): allowed only inside an allowed topic.
    case subscriptionPattern(String)
    /// A `rules.queryFacts` pattern (fact-key matcher): allowed only inside an allowed topic.
    case factPattern(String)
    /// Nothing to constrain: the transaction envelope (its operations are checked one by one)
    /// and unsubscribes (they act on the connection's own subscription, checked when made).
    /// The text is what a `check` hook sees, as in the original.
    case unconstrained(String)

    /// The text in `FORBIDDEN` messages and passed to a `check` hook.
    public var text: String {
        switch self {
        case .name(let s), .subscriptionPattern(let s), .factPattern(let s), .unconstrained(let s): return s
        }
    }

    /// The resource of `request`, by operation.
    public static func of(_ request: Request) -> AccessResource {
        let type = request.type
        func string(_ f: String) -> AccessResource { request[f]?.stringValue.map(AccessResource.name) ?? .name("*") }
        switch type {
        case "store.subscribe": return string("query")
        case "store.unsubscribe", "rules.unsubscribe":
            return .unconstrained(request["subscriptionId"]?.stringValue ?? "*")
        case "store.transaction": return .unconstrained(request["bucket"]?.stringValue ?? request["name"]?.stringValue ?? "*")
        case "store.defineBucket", "store.dropBucket", "store.updateBucket", "store.getBucketSchema",
             "store.defineQuery", "store.undefineQuery":
            return string("name")
        case "rules.emit": return string("topic")
        case "rules.setFact", "rules.getFact", "rules.deleteFact": return string("key")
        case "rules.subscribe": return request["pattern"]?.stringValue.map(AccessResource.subscriptionPattern) ?? .name("*")
        case "rules.queryFacts": return request["pattern"]?.stringValue.map(AccessResource.factPattern) ?? .name("*")
        default:
            if type.hasPrefix("store.") { return string("bucket") }
            return .name("*")  // rule administration, stats, server.*, everything else: all of it
        }
    }
}
