import FuzzKit
import NoexJSON

/// Fuzzes the JSON parser and serializer with the server's inbound limits.
///
/// Invariants: the byte-array and raw-buffer entry points agree; an accepted text is valid
/// UTF-8; a rejection points inside the input (or at its end); and parse -> serialize ->
/// parse -> serialize is stable (the second text equals the first, and parses to an equal
/// value), so what the server writes is always something it would read back identically.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    // The request path's flat-object scanner must agree with the parser whenever it answers.
    if let scanned = input.withUnsafeBytes({ JSON.scanFlatObject($0) }) {
        let parsed = try? JSON.parse(input)
        invariant(parsed.map { JSON.object(scanned).isIdentical(to: $0) } == true,
                  "scanner \(JSON.object(scanned)) vs parser \(String(describing: parsed))")
    }
    let limits = JSONLimits(maxDepth: 64)
    let viaArray = Result { () throws(JSONParseError) in try JSON.parse(input, limits: limits) }
    let viaBuffer = input.withUnsafeBytes { buffer in
        Result { () throws(JSONParseError) in try JSON.parse(buffer, limits: limits) }
    }
    switch (viaArray, viaBuffer) {
    case (.failure(let a), .failure(let b)):
        invariant(a == b, "entry points disagree: \(a) vs \(b)")
        invariant(a.offset >= 0 && a.offset <= input.count, "error offset \(a.offset) outside \(input.count) bytes")
        return 0
    case (.success(let a), .success(let b)):
        invariant(a == b, "entry points disagree: \(a) vs \(b)")
        invariant(String(validating: input, as: UTF8.self) != nil, "accepted a text that is not valid UTF-8")
        let first = a.serializedBytes
        let reparsed: JSON
        do throws(JSONParseError) {
            reparsed = try JSON.parse(first, limits: limits)
        } catch {
            invariant(false, "cannot reparse own output \(String(decoding: first, as: UTF8.self)): \(error)")
            return 0
        }
        let second = reparsed.serializedBytes
        invariant(first == second, "serialization not stable: \(String(decoding: first, as: UTF8.self)) then \(String(decoding: second, as: UTF8.self))")
        invariant(try! JSON.parse(second, limits: limits) == reparsed, "reparsed value differs")
        invariant(reparsed.jsonString == String(decoding: first, as: UTF8.self), "jsonString differs from serializedBytes")
    default:
        invariant(false, "entry points disagree: \(viaArray) vs \(viaBuffer)")
    }
    return 0
}
