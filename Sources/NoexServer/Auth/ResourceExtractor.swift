import NoexJSON

/// The resource a request is authorised against (docs/protocol/auth.md).
public enum ResourceExtractor {
    public static func resource(of request: Request) -> String {
        let type = request.type
        func string(_ f: String) -> String? { request[f]?.stringValue }
        if type == "store.subscribe" { return string("query") ?? "*" }
        if type == "store.unsubscribe" { return string("subscriptionId") ?? "*" }
        if type.hasPrefix("store.") { return string("bucket") ?? string("name") ?? "*" }
        if type.hasPrefix("rules.") { return string("topic") ?? string("key") ?? string("pattern") ?? "*" }
        return "*"
    }
}
