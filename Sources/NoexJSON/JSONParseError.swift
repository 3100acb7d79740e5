/// Why a text is not acceptable JSON, and where: `offset` is the zero-based byte offset of
/// the first byte that cannot be part of a valid document (the input length when the text
/// ends too early).
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The text ended inside a value (or was empty / only whitespace).
        case unexpectedEnd
        /// A byte that the grammar does not allow here.
        case unexpectedByte
        /// A number that breaks the grammar (leading zero, missing digits, `NaN`, ...).
        case invalidNumber
        /// A backslash escape other than `\" \\ \/ \b \f \n \r \t \uXXXX`.
        case invalidEscape
        /// A raw control character (below U+0020) inside a string.
        case controlCharacterInString
        /// Bytes that are not well-formed UTF-8.
        case invalidUTF8
        /// Nesting deeper than `JSONLimits.maxDepth`.
        case depthLimitExceeded
        /// Input longer than `JSONLimits.maxBytes`.
        case sizeLimitExceeded
        /// A complete value followed by something other than whitespace.
        case trailingData
    }

    public var kind: Kind
    public var offset: Int
    /// The offending byte, when there is one (not for `unexpectedEnd` or the limits).
    public var byte: UInt8?

    public init(kind: Kind, offset: Int, byte: UInt8? = nil) {
        self.kind = kind
        self.offset = offset
        self.byte = byte
    }

    /// A one-line human-readable explanation that names the offset.
    public var message: String {
        let what: String
        switch kind {
        case .unexpectedEnd: what = "Unexpected end of JSON input"
        case .unexpectedByte: what = "Unexpected \(Self.describe(byte))"
        case .invalidNumber: what = "Invalid number near \(Self.describe(byte))"
        case .invalidEscape: what = "Invalid escape sequence near \(Self.describe(byte))"
        case .controlCharacterInString: what = "Bad control character \(Self.describe(byte)) in string literal"
        case .invalidUTF8: what = "Invalid UTF-8 \(Self.describe(byte))"
        case .depthLimitExceeded: what = "Nesting too deep"
        case .sizeLimitExceeded: what = "Input too large"
        case .trailingData: what = "Unexpected non-whitespace \(Self.describe(byte)) after JSON value"
        }
        return "\(what) at offset \(offset)"
    }

    public var description: String { message }

    private static func describe(_ byte: UInt8?) -> String {
        guard let b = byte else { return "end of input" }
        if b >= 0x21 && b < 0x7F { return "character '\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x\(hex2(b))"
    }

    private static func hex2(_ b: UInt8) -> String {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
        return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
    }
}
