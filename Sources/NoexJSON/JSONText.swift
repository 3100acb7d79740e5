/// The serialised JSON text of one `JSONObject`, attached to it by an owner that serialises
/// the same unchanged object many times (the store attaches it to every record it writes).
///
/// Immutable: an object's text is made once from its members, and any change to the object
/// drops it (`JSONObject.storage`), so copies that share it all have exactly these members.
public final class JSONText: Sendable {
    public let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

extension JSONObject {
    /// The attached JSON text, if any: the exact bytes `serializedBytes` would produce.
    public var attachedText: [UInt8]? { text?.bytes }

    /// Serialises this object once and keeps the text with it, so later serialisations of it
    /// and of its unchanged copies (answers, query results, the storage engine's rows) copy
    /// bytes instead of walking the members. Costs the text's size in memory per object.
    public mutating func attachText() {
        if text != nil { return }
        var writer = JSONWriter(capacity: 64 + count * 32)
        writeMembers(to: &writer)
        text = JSONText(writer.makeArray())
    }
}
