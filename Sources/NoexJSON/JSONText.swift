/// The serialised JSON text of a `JSONObject`, attached to it by an owner that serialises the
/// same unchanged object many times (the store attaches it to every record it writes).
///
/// Kept as the bytes themselves in `JSONObject.text` (an optional array is one word, as a
/// class reference would be, and costs one allocation instead of two). Immutable in effect: an
/// object's text is made once from its members, and any change to the object drops it
/// (`JSONObject.storage`), so copies that share it all have exactly these members.
extension JSONObject {
    /// The attached JSON text, if any: the exact bytes `serializedBytes` would produce.
    public var attachedText: [UInt8]? { text }

    /// Serialises this object once and keeps the text with it, so later serialisations of it
    /// and of its unchanged copies (answers, query results, the storage engine's rows) copy
    /// bytes instead of walking the members. Costs the text's size in memory per object.
    /// Written in stack memory first, so a typical record costs one allocation: its text.
    public mutating func attachText() {
        if text != nil { return }
        text = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.attachScratchBytes) { scratch in
            var writer = JSONWriter(scratch: scratch)
            writeMembers(to: &writer)
            return writer.makeArray()
        }
    }

    /// Stack memory for `attachText`; a longer text moves to the heap as it grows.
    static let attachScratchBytes = 512
}
