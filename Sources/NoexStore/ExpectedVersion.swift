import NoexJSON

/// Optimistic concurrency for updates and deletes: a caller that read a record at `_version` v
/// passes v, and the write happens only if nobody changed the record since.
enum ExpectedVersion {
    /// Throws `versionConflict` when `expected` is given and differs from `record`'s `_version`.
    static func check(_ expected: Int64?, _ record: JSONObject, bucket: String, key: JSON) throws(StoreError) {
        guard let expected else { return }
        let actual = record["_version"] ?? .null
        guard actual.numberValue != Double(expected) else { return }
        throw .versionConflict(bucket: bucket, key: key, expected: expected, actual: actual)
    }
}
