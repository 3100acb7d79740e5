import NoexJSON

/// The parts of a bucket schema that every insert consults, extracted once per definition.
///
/// Iterating `BucketDefinition.fields` copies each `FieldDefinition` (a dozen optionals, several
/// of them strings and arrays, so every copy is a burst of retains and releases); the insert
/// path only needs these few facts, so it reads them from here (bench/README.md, issue 13).
struct WritePlan {
    /// Fields with a `generated` kind, in schema order.
    var generated: [(name: String, kind: GeneratedKind)] = []
    /// Fields with a `default`, in schema order.
    var defaults: [(name: String, value: JSON)] = []
    /// Foreign keys: the field and its target bucket, in schema order.
    var references: [(name: String, target: String)] = []

    init(_ definition: BucketDefinition) {
        for (name, def) in definition.fields {
            if let kind = def.generated { generated.append((name, kind)) }
            if let value = def.defaultValue { defaults.append((name, value)) }
            if let target = def.ref { references.append((name, target)) }
        }
    }
}
