// Helpers shared by the codec tests: client-side (masked) frame building and feeding inputs
// split at every byte boundary.
@testable import NoexLoop

/// Builds one masked client frame, with explicit header bits for malformed-frame tests.
func clientFrame(
    opcode: UInt8, payload: [UInt8], fin: Bool = true, rsv: UInt8 = 0, masked: Bool = true,
    maskKey: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
) -> [UInt8] {
    var out: [UInt8] = [(fin ? 0x80 : 0) | (rsv << 4) | opcode]
    let maskBit: UInt8 = masked ? 0x80 : 0
    if payload.count < 126 {
        out.append(maskBit | UInt8(payload.count))
    } else if payload.count <= 0xFFFF {
        out.append(maskBit | 126)
        out.append(UInt8(payload.count >> 8))
        out.append(UInt8(payload.count & 0xFF))
    } else {
        out.append(maskBit | 127)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: payload.count >> shift)) }
    }
    if masked {
        out += maskKey
        for (i, b) in payload.enumerated() { out.append(b ^ maskKey[i % 4]) }
    } else {
        out += payload
    }
    return out
}

/// Decodes `chunks` in order with a fresh decoder and returns every event.
func decodeAll(_ chunks: [[UInt8]], config: WebSocketDecoderConfig = .init(),
               prepare: (inout WebSocketFrameDecoder) -> Void = { _ in }) -> [WebSocketInbound] {
    var decoder = WebSocketFrameDecoder()
    prepare(&decoder)
    var events: [WebSocketInbound] = []
    for chunk in chunks {
        // A copy per chunk: the decoder unmasks in place, as in the server's read buffer.
        var chunk = chunk
        chunk.withUnsafeMutableBytes { buf in
            var offset = 0
            while let event = decoder.next(buf, consumed: &offset, config: config) { events.append(event) }
            precondition(offset == buf.count, "decoder left input unconsumed")
        }
    }
    return events
}

/// Every two-way split of `bytes`, plus the byte-by-byte split.
func everySplit(_ bytes: [UInt8]) -> [[[UInt8]]] {
    var splits: [[[UInt8]]] = [[bytes]]
    if bytes.count > 1 {
        for i in 1..<bytes.count { splits.append([Array(bytes[..<i]), Array(bytes[i...])]) }
    }
    splits.append(bytes.map { [$0] })
    return splits
}
