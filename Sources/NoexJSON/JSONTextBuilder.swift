/// Writes one JSON text from literal fragments and values into a single buffer, for messages
/// of a fixed shape (a server's answers and pushes): no intermediate `JSONObject` is built and
/// the values are serialised straight into the output.
///
/// The caller is responsible for the fragments being valid JSON punctuation and keys; values
/// and strings are written exactly as `serializedBytes` writes them.
public struct JSONTextBuilder: ~Copyable {
    private var writer: JSONWriter

    public init(capacity: Int = 128) { writer = JSONWriter(capacity: capacity) }

    /// Appends a literal fragment such as `{"id":` unchanged.
    public mutating func raw(_ fragment: StaticString) { writer.write(fragment) }

    /// Appends bytes unchanged (e.g. a value serialised earlier).
    public mutating func raw(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { writer.write($0) }
    }

    /// Appends a value's JSON text.
    public mutating func value(_ value: JSON) { value.write(to: &writer) }

    /// Appends a quoted, escaped string literal.
    public mutating func string(_ string: String) { JSON.writeString(string, to: &writer) }

    /// The bytes written.
    public consuming func finish() -> [UInt8] { writer.makeArray() }
}
