import FuzzKit
import NoexLoop

/// Fuzzes the HTTP upgrade parser and validator. The first input byte picks the parser's
/// header limit and the validator's origin policy; the rest is what a client sends.
///
/// Invariants: the outcome does not depend on how the bytes are cut (whole, one byte at a
/// time, or seeded chunks); a complete head ends at the first CRLF CRLF within the limit;
/// an accepted upgrade answers 101 with the RFC 6455 accept value; a rejection is a
/// well-formed HTTP error response.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    guard let control = input.first else { return 0 }
    let request = Array(input.dropFirst())
    let limit = control & 1 == 0 ? 8192 : 5 + Int(control >> 1)

    let whole = HTTPOutcome.feeding(request, limit: limit, cuts: [request.count])
    let bytewise = HTTPOutcome.feeding(request, limit: limit, cuts: Array(repeating: 1, count: request.count))
    let chunked = HTTPOutcome.feeding(request, limit: limit,
                                      cuts: chunkLengths(count: request.count, seed: UInt64(control) &* 0x9E37_79B9))
    invariant(whole == bytewise, "whole \(whole) != byte-by-byte \(bytewise)")
    invariant(whole == chunked, "whole \(whole) != chunked \(chunked)")

    switch whole {
    case .needMore:
        invariant(request.count < limit, "needMore after \(request.count) bytes with limit \(limit)")
        invariant(firstTerminator(request) == nil, "needMore although the input holds CRLF CRLF")
    case .complete(let head, let end):
        invariant(end <= limit, "head of \(end) bytes accepted over the limit \(limit)")
        invariant(firstTerminator(request) == end, "head ends at \(end), first CRLF CRLF ends at \(String(describing: firstTerminator(request)))")
        checkValidation(head, originCheck: control & 2 != 0)
    case .invalid(let rejection):
        checkRejection(rejection)
    }
    return 0
}

/// The parser's outcome with `consumed` made absolute (an offset into the whole input).
enum HTTPOutcome: Equatable {
    case needMore
    case complete(HTTPRequestHead, end: Int)
    case invalid(HTTPRejection)

    static func feeding(_ bytes: [UInt8], limit: Int, cuts: [Int]) -> HTTPOutcome {
        var parser = HTTPUpgradeParser(maxHeaderBytes: limit)
        var offset = 0
        for n in cuts {
            let chunk = bytes[offset..<offset + n]
            let result = chunk.withUnsafeBytes { parser.feed($0) }
            switch result {
            case .needMore: offset += n
            case .complete(let head, let consumed):
                invariant(consumed >= 0 && consumed <= n, "consumed \(consumed) of a \(n)-byte chunk")
                return .complete(head, end: offset + consumed)
            case .invalid(let rejection): return .invalid(rejection)
            }
        }
        return .needMore
    }
}

/// The offset just past the first CRLF CRLF, if any.
func firstTerminator(_ bytes: [UInt8]) -> Int? {
    guard bytes.count >= 4 else { return nil }
    for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
        return i + 4
    }
    return nil
}

func checkValidation(_ head: HTTPRequestHead, originCheck: Bool) {
    invariant(!head.method.isEmpty && !head.target.isEmpty, "complete head without method or target: \(head)")
    for (name, _) in head.headers {
        invariant(head.value(name) != nil, "header \(name) listed but not found by value(_:)")
    }
    let config = HTTPUpgradeConfig(path: "/", allowedOrigins: originCheck ? ["http://a.example"] : nil)
    switch HTTPUpgradeValidator.validate(head, config: config) {
    case .success(let upgrade):
        invariant(!upgrade.key.isEmpty, "accepted an upgrade without a key")
        // Only a present Origin is checked (non-browser clients send none).
        if originCheck, let origin = head.value("origin") { invariant(origin == "http://a.example", "accepted origin \(origin)") }
        let response = String(decoding: HTTPUpgradeValidator.switchingProtocolsResponse(for: upgrade), as: UTF8.self)
        invariant(response.hasPrefix("HTTP/1.1 101 "), "upgrade response starts \(response.prefix(20))")
        let accept = HTTPUpgradeValidator.acceptValue(forKey: upgrade.key)
        invariant(accept.utf8.count == 28, "accept value \(accept) is not 20 base64-encoded bytes")
        invariant(response.contains("Sec-WebSocket-Accept: \(accept)\r\n"), "response lacks the accept value")
        // No header injection: the head's only blank line is its end.
        invariant(firstTerminator(Array(response.utf8)) == response.utf8.count, "upgrade response has a blank line inside: \(response)")
    case .failure(let rejection):
        checkRejection(rejection)
    }
}

func checkRejection(_ rejection: HTTPRejection) {
    invariant((400...599).contains(rejection.status), "rejection status \(rejection.status)")
    let text = String(decoding: rejection.responseBytes, as: UTF8.self)
    invariant(text.hasPrefix("HTTP/1.1 \(rejection.status) "), "rejection response starts \(text.prefix(20))")
    invariant(text.contains("\r\n\r\n"), "rejection response has no end of head")
    invariant(text.hasSuffix(rejection.body), "rejection body missing")
}
