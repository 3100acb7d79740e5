import FuzzKit
import NoexLoop

/// Fuzzes the RFC 6455 frame decoder (masking, fragmentation, control frames, limits, UTF-8
/// validation, permessage-deflate). The first input byte picks the decoder's limits and whether
/// permessage-deflate was negotiated (bit 3, with client context takeover unless bit 4); the rest
/// is the client's bytes after the handshake.
///
/// Invariants: the events do not depend on how the bytes are cut; text messages and close
/// reasons are valid UTF-8; nothing exceeds its limit; nothing follows a failure; and every
/// event before a failure equals what a naive reference reader (below) makes of the frames.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrame(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    guard let control = input.first else { return 0 }
    let wire = Array(input.dropFirst())
    let limits = [1 << 20, 125, 16, 0]
    let config = WebSocketDecoderConfig(maxMessageBytes: limits[Int(control & 3)], rejectBinary: control & 4 != 0)
    let deflate: Bool? = control & 8 != 0 ? control & 16 != 0 : nil

    let whole = decode(wire, config: config, deflate: deflate, cuts: wire.isEmpty ? [] : [wire.count])
    let bytewise = decode(wire, config: config, deflate: deflate, cuts: Array(repeating: 1, count: wire.count))
    let chunked = decode(wire, config: config, deflate: deflate, cuts: chunkLengths(count: wire.count, seed: UInt64(control) &+ 0x51ED))
    invariant(whole == bytewise, "whole \(whole) != byte-by-byte \(bytewise)")
    invariant(whole == chunked, "whole \(whole) != chunked \(chunked)")

    // The reference reader does not inflate: with deflate only the invariants above and below hold.
    let reference = deflate == nil ? referenceEvents(wire) : whole
    for (i, event) in whole.enumerated() {
        switch event {
        case .text(let payload):
            invariant(String(validating: payload, as: UTF8.self) != nil, "text message is not valid UTF-8")
            invariant(payload.count <= config.maxMessageBytes, "text of \(payload.count) bytes over \(config.maxMessageBytes)")
        case .binary(let payload):
            invariant(!config.rejectBinary, "binary message although binary is rejected")
            invariant(payload.count <= config.maxMessageBytes, "binary of \(payload.count) bytes over \(config.maxMessageBytes)")
        case .ping(let payload), .pong(let payload):
            invariant(payload.count <= 125, "control payload of \(payload.count) bytes")
        case .close(let code, let reason):
            invariant(code.map(WebSocketCloseCode.isValidOnWire) ?? reason.isEmpty, "close code \(String(describing: code))")
            invariant(String(validating: reason, as: UTF8.self) != nil, "close reason is not valid UTF-8")
        case .failure(let failure):
            invariant(i == whole.count - 1, "events after a failure: \(whole[i...])")
            invariant(WebSocketCloseCode.isValidOnWire(failure.code), "failure close code \(failure.code)")
            return 0
        }
        invariant(i < reference.count && reference[i] == event,
                  "event \(i) is \(event), the reference reader saw \(i < reference.count ? "\(reference[i])" : "nothing")")
    }
    return 0
}

/// Feeds `wire` in chunks of the given lengths and collects every event.
func decode(_ wire: [UInt8], config: WebSocketDecoderConfig, deflate: Bool?, cuts: [Int]) -> [WebSocketInbound] {
    var decoder = WebSocketFrameDecoder()
    if let noTakeover = deflate { decoder.enableDeflate(clientNoContextTakeover: noTakeover) }
    var events: [WebSocketInbound] = []
    var offset = 0
    for n in cuts {
        // A copy per chunk: the decoder unmasks in place, as in the server's read buffer.
        var piece = Array(wire[offset..<offset + n])
        piece.withUnsafeMutableBytes { chunk in
            var consumed = 0
            while let event = decoder.next(chunk, consumed: &consumed, config: config) {
                invariant(consumed <= chunk.count, "consumed \(consumed) of \(chunk.count)")
                events.append(event)
            }
            invariant(consumed == chunk.count, "decoder stopped at \(consumed) of \(chunk.count) without an event")
        }
        offset += n
        if decoder.hasFailed {
            invariant(events.last.map { if case .failure = $0 { true } else { false } } ?? false,
                      "decoder failed without reporting a failure")
        }
    }
    return events
}

/// A deliberately simple reader of well-formed frames: byte-at-a-time unmasking, fragments
/// joined, no validation at all. It stops at the first frame it cannot read (truncated,
/// unmasked, or a continuation with no message), which the real decoder must reject or wait on.
func referenceEvents(_ wire: [UInt8]) -> [WebSocketInbound] {
    var events: [WebSocketInbound] = []
    var i = 0
    var message: (opcode: UInt8, bytes: [UInt8])?
    while i + 2 <= wire.count {
        let fin = wire[i] & 0x80 != 0
        let opcode = wire[i] & 0x0F
        guard wire[i + 1] & 0x80 != 0 else { break }
        var length = UInt64(wire[i + 1] & 0x7F)
        var p = i + 2
        let extended = length == 126 ? 2 : (length == 127 ? 8 : 0)
        guard p + extended + 4 <= wire.count else { break }
        if extended > 0 {
            length = 0
            for k in 0..<extended { length = length << 8 | UInt64(wire[p + k]) }
            p += extended
        }
        let key = Array(wire[p..<p + 4])
        p += 4
        guard length <= UInt64(wire.count - p) else { break }
        let payload = (0..<Int(length)).map { wire[p + $0] ^ key[$0 % 4] }
        i = p + Int(length)
        switch opcode {
        case 0x9: events.append(.ping(payload))
        case 0xA: events.append(.pong(payload))
        case 0x8:
            let code = payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil
            events.append(.close(code: code, reason: payload.count > 2 ? Array(payload[2...]) : []))
        case 0x0:
            guard message != nil else { return events }
            message!.bytes += payload
        default:
            message = (opcode, (message?.bytes ?? []) + payload)
        }
        if fin, opcode < 0x8, let m = message {
            events.append(m.opcode == 0x1 ? .text(m.bytes) : .binary(m.bytes))
            message = nil
        }
    }
    return events
}
