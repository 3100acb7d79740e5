import NoexJSON

/// The resource a request is authorised against, as text (see `AccessResource`).
public enum ResourceExtractor {
    public static func resource(of request: Request) -> String { AccessResource.of(request).text }
}
