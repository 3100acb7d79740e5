/// `procedures: {…}` (docs/procedures.md#limits): the original's three limits and the bounds
/// this server adds so that one call cannot stall the loop or grow memory without bound.
public struct ProceduresConfig: Sendable, Equatable {
    /// Steps of one definition, nested `then` / `else` steps included (checked at registration).
    public var maxSteps: Int = 100
    /// `if` steps may nest this deep minus one (an `if` at depth `maxConditionDepth` is refused).
    public var maxConditionDepth: Int = 5
    /// A call's time budget when its definition names no `timeoutMs`.
    public var defaultTimeoutMs: Double = 30_000
    /// Our bound: records and values one call may read, build, copy or write, summed over its
    /// steps (each record a store step returns or writes, each element an aggregate or transform
    /// visits or builds, each JSON value a template reference copies in).
    public var maxItemsPerCall: Int = 1_000_000
    /// Our bound: UTF-8 bytes all text templates (references with text around them) of one call
    /// may produce together.
    public var maxTemplateBytes: Int = 1_048_576

    /// Ceilings of the config keys: a definition is walked recursively and a call's items are
    /// held in memory, so neither may be set without bound.
    public static let maxStepsBound: Int64 = 10_000
    public static let maxConditionDepthBound: Int64 = 64
    public static let maxItemsBound: Int64 = 100_000_000

    public init(maxSteps: Int = 100, maxConditionDepth: Int = 5, defaultTimeoutMs: Double = 30_000,
                maxItemsPerCall: Int = 1_000_000, maxTemplateBytes: Int = 1_048_576) {
        self.maxSteps = maxSteps
        self.maxConditionDepth = maxConditionDepth
        self.defaultTimeoutMs = defaultTimeoutMs
        self.maxItemsPerCall = maxItemsPerCall
        self.maxTemplateBytes = maxTemplateBytes
    }
}
