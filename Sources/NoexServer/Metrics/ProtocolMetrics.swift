import NoexLoop

/// The protocol core's counters: requests and error answers per operation (and error code),
/// and push outcomes. Plain integers in fixed buffers, touched only on the loop thread, so a
/// request costs one table lookup and one increment.
final class ProtocolMetrics {
    /// Requests per operation slot.
    private let requests: UnsafeMutableBufferPointer<UInt64>
    /// Error answers per (operation slot × error code).
    private let errors: UnsafeMutableBufferPointer<UInt64>
    /// Pushes queued for a client (a push that replaced an older pending one included).
    /// The push counters are counted once per push: unchecked exclusivity (loop thread only,
    /// never accessed inside an inout access to themselves) spares a dynamic check each.
    @exclusivity(unchecked) private(set) var pushesSent: UInt64 = 0
    /// Pushes that replaced an older pending push of the same subscription (that one was never
    /// written).
    @exclusivity(unchecked) private(set) var pushesCoalesced: UInt64 = 0
    /// Event pushes dropped because their client was over the hard write limit.
    @exclusivity(unchecked) private(set) var pushesDropped: UInt64 = 0

    static let codes = ErrorCode.allCases

    init() {
        requests = .allocate(capacity: OperationTable.count)
        requests.initialize(repeating: 0)
        errors = .allocate(capacity: OperationTable.count * Self.codes.count)
        errors.initialize(repeating: 0)
    }

    deinit {
        requests.deallocate()
        errors.deallocate()
    }

    /// Counts a request; returns its operation slot for `countError`.
    @inline(__always)
    func countRequest(_ operation: RequestOperation) -> Int {
        let op = operation.rawValue
        requests[op] &+= 1
        return op
    }

    /// Counts a message that failed the envelope checks (and its error answer).
    func countInvalid(_ code: ErrorCode) {
        requests[OperationTable.invalid] &+= 1
        countError(OperationTable.invalid, code)
    }

    func countError(_ op: Int, _ code: ErrorCode) {
        errors[op * Self.codes.count + Self.codes.firstIndex(of: code)!] &+= 1
    }

    func countPush(_ result: SendResult) {
        switch result {
        case .queued: pushesSent &+= 1
        case .coalesced:
            pushesSent &+= 1
            pushesCoalesced &+= 1
        case .dropped: pushesDropped &+= 1
        case .notOpen: break
        }
    }

    /// Requests so far, per operation name (only operations seen at least once).
    var requestCounts: [(op: String, count: UInt64)] {
        (0..<OperationTable.count).compactMap { requests[$0] == 0 ? nil : (OperationTable.names[$0], requests[$0]) }
    }

    /// Error answers so far, per operation and code (only pairs seen at least once).
    var errorCounts: [(op: String, code: ErrorCode, count: UInt64)] {
        var out: [(op: String, code: ErrorCode, count: UInt64)] = []
        for op in 0..<OperationTable.count {
            for (c, code) in Self.codes.enumerated() {
                let n = errors[op * Self.codes.count + c]
                if n > 0 { out.append((OperationTable.names[op], code, n)) }
            }
        }
        return out
    }

    /// Error answers with this code, over all operations.
    func errorTotal(_ code: ErrorCode) -> UInt64 {
        let c = Self.codes.firstIndex(of: code)!
        return (0..<OperationTable.count).reduce(0) { $0 &+ errors[$1 * Self.codes.count + c] }
    }
}

@available(*, unavailable)
extension ProtocolMetrics: Sendable {}
