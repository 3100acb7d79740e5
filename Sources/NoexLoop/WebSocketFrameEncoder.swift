// RFC 6455 §5.2 frame serialisation for the server side: server frames are never masked.

/// Writes unmasked, unfragmented frames.
public enum WebSocketFrameEncoder {
    /// Size of the header `encode` writes before a payload of `payloadCount` bytes.
    @inline(__always)
    public static func headerSize(payloadCount: Int) -> Int {
        payloadCount < 126 ? 2 : (payloadCount <= 0xFFFF ? 4 : 10)
    }

    /// Appends the header of one final frame with the given opcode and payload length.
    /// `compressed` sets RSV1 (RFC 7692 §6: a permessage-deflate message).
    @inline(__always)
    public static func appendHeader(opcode: WebSocketOpcode, payloadCount: Int, compressed: Bool = false,
                                    to out: inout [UInt8]) {
        var header: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &header) { raw in
            let n = writeHeader(opcode: opcode, payloadCount: payloadCount, compressed: compressed, to: raw)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<n]))
        }
    }

    /// Appends one final frame, header and payload, growing `out` once: the queue's hot path.
    /// A small frame is put together on the stack and appended in one piece (each `append`
    /// costs a capacity and uniqueness check and a call, more than copying a small payload
    /// twice); a larger one is appended as header, then payload.
    @inline(__always)
    public static func appendFrame(opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, compressed: Bool = false,
                                   to out: inout [UInt8]) {
        let headerCount = headerSize(payloadCount: payload.count)
        let total = headerCount + payload.count
        guard total <= stackFrameMaxBytes else {
            appendHeader(opcode: opcode, payloadCount: payload.count, compressed: compressed, to: &out)
            out.append(contentsOf: payload)
            return
        }
        withUnsafeTemporaryAllocation(byteCount: stackFrameMaxBytes, alignment: 8) { frame in
            _ = writeHeader(opcode: opcode, payloadCount: payload.count, compressed: compressed, to: frame)
            if let from = payload.baseAddress {
                (frame.baseAddress! + headerCount).copyMemory(from: from, byteCount: payload.count)
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: frame[0..<total]))
        }
    }

    /// `appendFrame` for a payload in parts (a push's head, shared data and tail).
    @inline(__always)
    static func appendFrame(opcode: WebSocketOpcode, parts: FrameParts, compressed: Bool = false,
                            to out: inout [UInt8]) {
        let count = parts.count
        let headerCount = headerSize(payloadCount: count)
        let total = headerCount + count
        guard total <= stackFrameMaxBytes else {
            appendHeader(opcode: opcode, payloadCount: count, compressed: compressed, to: &out)
            parts.append(to: &out)
            return
        }
        withUnsafeTemporaryAllocation(byteCount: stackFrameMaxBytes, alignment: 8) { frame in
            _ = writeHeader(opcode: opcode, payloadCount: count, compressed: compressed, to: frame)
            parts.copy(to: frame.baseAddress! + headerCount)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: frame[0..<total]))
        }
    }

    /// Frames up to this size are put together on the stack by `appendFrame`.
    static let stackFrameMaxBytes = 512

    /// Writes the header of one final frame to the start of `raw` (at least 10 bytes) and
    /// returns its size (`headerSize(payloadCount:)`).
    @inline(__always)
    public static func writeHeader(opcode: WebSocketOpcode, payloadCount: Int, compressed: Bool = false,
                                   to raw: UnsafeMutableRawBufferPointer) -> Int {
        raw[0] = 0x80 | (compressed ? 0x40 : 0) | opcode.rawValue
        if payloadCount < 126 {
            raw[1] = UInt8(payloadCount)
            return 2
        }
        if payloadCount <= 0xFFFF {
            raw[1] = 126
            raw[2] = UInt8(truncatingIfNeeded: payloadCount >> 8)
            raw[3] = UInt8(truncatingIfNeeded: payloadCount)
            return 4
        }
        raw[1] = 127
        let n = UInt64(payloadCount)
        for i in 0..<8 { raw[2 + i] = UInt8(truncatingIfNeeded: n >> UInt64(56 - 8 * i)) }
        return 10
    }

    /// One complete final frame.
    public static func frame(opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(headerSize(payloadCount: payload.count) + payload.count)
        appendHeader(opcode: opcode, payloadCount: payload.count, to: &out)
        out.append(contentsOf: payload)
        return out
    }

    /// One complete final frame.
    public static func frame(opcode: WebSocketOpcode, payload: [UInt8]) -> [UInt8] {
        payload.withUnsafeBytes { frame(opcode: opcode, payload: $0) }
    }

    /// A close frame: the 2-byte code followed by the reason, truncated to fit the 125-byte
    /// control-frame limit on a UTF-8 boundary. `code == nil` sends an empty close payload
    /// (the answer to a close frame that carried no code).
    public static func closeFrame(code: UInt16?, reason: [UInt8] = []) -> [UInt8] {
        guard let code else { return [0x88, 0x00] }
        var payload: [UInt8] = [UInt8(code >> 8), UInt8(code & 0xFF)]
        var cut = min(reason.count, 123)
        // Never split a multi-byte character: back off over continuation bytes.
        while cut < reason.count && cut > 0 && reason[cut] & 0xC0 == 0x80 { cut -= 1 }
        payload.append(contentsOf: reason[0..<cut])
        return frame(opcode: .close, payload: payload)
    }
}
