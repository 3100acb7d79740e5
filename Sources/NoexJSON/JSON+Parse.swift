/// Entry points for parsing JSON text. Every one parses exactly one value: anything but
/// whitespace after it is an error (`trailingData`).
extension JSON {
    /// Parses UTF-8 JSON text from raw bytes (e.g. a WebSocket payload in place).
    public static func parse(_ bytes: UnsafeRawBufferPointer, limits: JSONLimits = .default) throws(JSONParseError) -> JSON {
        if bytes.count > limits.maxBytes { throw JSONParseError(kind: .sizeLimitExceeded, offset: limits.maxBytes) }
        guard let raw = bytes.baseAddress, bytes.count > 0 else { throw JSONParseError(kind: .unexpectedEnd, offset: 0) }
        let start = raw.assumingMemoryBound(to: UInt8.self)
        return try JSONParser.withScratch { (scratch) throws(JSONParseError) -> JSON in
            // The parser (and its stacks) ends inside this closure, before the scratch memory.
            var parser = JSONParser(base: start, count: bytes.count, maxDepth: limits.maxDepth, scratch: scratch)
            return try parser.parseDocument()
        }
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSON {
        try parse(bytes, limits: .default)
    }

    public static func parse(_ bytes: [UInt8], limits: JSONLimits) throws(JSONParseError) -> JSON {
        let result: Result<JSON, JSONParseError> = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) -> JSON in try parse(raw, limits: limits) }
        }
        return try result.get()
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSON {
        try parse(text, limits: .default)
    }

    public static func parse(_ text: String, limits: JSONLimits) throws(JSONParseError) -> JSON {
        var text = text
        let result: Result<JSON, JSONParseError> = text.withUTF8 { utf8 in
            Result { () throws(JSONParseError) -> JSON in try parse(UnsafeRawBufferPointer(utf8), limits: limits) }
        }
        return try result.get()
    }
}
