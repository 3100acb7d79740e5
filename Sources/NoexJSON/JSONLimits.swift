/// Bounds a parse so that hostile input cannot exhaust the stack or memory.
///
/// The parser recurses once per nesting level, so `maxDepth` bounds stack use; `maxBytes`
/// bounds the input it agrees to look at (the transport has its own frame limit; this one
/// protects callers that parse files or other unbounded sources).
public struct JSONLimits: Sendable, Equatable {
    /// Deepest nesting of arrays and objects accepted; the top-level value is depth 1.
    public var maxDepth: Int
    /// Largest input, in bytes, accepted.
    public var maxBytes: Int

    public init(maxDepth: Int = 512, maxBytes: Int = 64 * 1024 * 1024) {
        self.maxDepth = maxDepth
        self.maxBytes = maxBytes
    }

    /// Depth 512 and 64 MiB: far beyond any protocol message, well inside a thread's stack.
    public static let `default` = JSONLimits()
}
