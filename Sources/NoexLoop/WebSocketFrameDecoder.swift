// RFC 6455 §5 frame decoder for the server side: resumable over any split of the input,
// joining fragments into messages, validating UTF-8 as the bytes arrive and enforcing the
// message size limit as soon as a frame header is known.

/// Limits and policies the decoder enforces.
public struct WebSocketDecoderConfig: Sendable, Equatable {
    /// Largest accepted message (sum of its fragments), in bytes. Exactly this size is
    /// accepted; one byte more fails with 1009 when the offending frame header arrives.
    public var maxMessageBytes: Int
    /// When true the first binary frame fails the connection with 1003 `binary_not_supported`
    /// (the noex JSON protocol); when false binary messages are delivered.
    public var rejectBinary: Bool

    public init(maxMessageBytes: Int = 1 << 20, rejectBinary: Bool = false) {
        precondition(maxMessageBytes >= 0, "maxMessageBytes must not be negative")
        self.maxMessageBytes = maxMessageBytes
        self.rejectBinary = rejectBinary
    }
}

/// A pure, resumable decoder of client-to-server frames.
///
/// Feed it bytes with `next(_:consumed:config:)` until it returns nil (input exhausted); each
/// non-nil result is one event. The limits come with every call (they are the server's, the
/// same for every connection, and not copied into every connection's slab entry). Only a partial header (at most 14 bytes) and the current message are
/// kept between calls, so the caller may reuse its read buffer.
public struct WebSocketFrameDecoder {
    /// Where the decoder is inside the current frame.
    private enum Phase {
        /// Waiting for (the rest of) a frame header; partial bytes live in `headerSpill`.
        case header
        /// Reading `remaining` payload bytes of a frame whose header has been validated.
        case payload(FrameInfo)
        /// The connection failed; all further input is ignored.
        case failed
    }

    /// The validated parts of a frame header needed while reading its payload.
    private struct FrameInfo {
        // Widest first: the decoder sits in every connection's slab entry, so padding counts.
        var remaining: Int
        var maskKey: UInt32
        /// Where the next payload byte falls in the 4-byte mask key (payload bytes so far, mod 4).
        var maskOffset: UInt8
        var opcode: WebSocketOpcode
        var fin: Bool
    }

    // Word-sized fields first, the byte-sized ones together at the end: every connection's
    // slab entry holds a decoder, so padding between fields is paid per connection.
    private var headerSpill: [UInt8] = []
    private var message: [UInt8] = []
    private var control: [UInt8] = []
    /// Wire bytes of the compressed message in progress (bounded like the inflated size).
    private var messageWireBytes = 0
    private var phase: Phase = .header
    /// permessage-deflate, once negotiated for this connection (nil: RSV1 is a protocol error).
    /// (After `phase`: its 9 bytes then share a word with the byte-sized fields below.)
    private var inflation: Inflation?
    private var utf8 = UTF8Validator()
    /// Opcode (text/binary) of the fragmented message in progress, nil between messages.
    private var messageOpcode: WebSocketOpcode?
    /// Whether the message in progress arrived compressed (RSV1 on its first frame).
    private var messageCompressed = false

    /// Inbound permessage-deflate state: the inflater exists only while it holds something
    /// (created at the first compressed message, dropped after each message when the client
    /// does not take its context over).
    private struct Inflation {
        var inflater: ZlibInflater?
        var clientNoContextTakeover: Bool
    }

    public init() {}

    /// Accepts compressed messages from now on (the upgrade negotiated permessage-deflate).
    public mutating func enableDeflate(clientNoContextTakeover: Bool) {
        inflation = Inflation(inflater: nil, clientNoContextTakeover: clientNoContextTakeover)
    }

    /// Capacity of the message buffer (the decompression-bomb tests check it stays within the limit).
    var messageCapacity: Int { message.capacity }

    /// Whether zlib inflate state is currently allocated for this connection.
    public var holdsInflater: Bool { inflation?.inflater != nil }

    /// True once a `.failure` was returned.
    public var hasFailed: Bool {
        if case .failed = phase { return true }
        return false
    }

    /// Decodes from `input[consumed...]`, advancing `consumed`, and returns the next complete
    /// event as an owned value (a message found in place is copied out), or nil when all input
    /// was consumed without completing one. Unmasks in place: the input's bytes change.
    public mutating func next(_ input: UnsafeMutableRawBufferPointer, consumed: inout Int,
                              config: WebSocketDecoderConfig) -> WebSocketInbound? {
        switch nextEvent(input, consumed: &consumed, config: config) {
        case nil: return nil
        case .inPlace(.binary, let payload)?: return .binary(Array(payload))
        case .inPlace(_, let payload)?: return .text(Array(payload))
        case .inbound(let event)?: return event
        }
    }

    /// Decodes from `input[consumed...]`, advancing `consumed`. Returns the next complete event,
    /// or nil when all input was consumed without completing one.
    ///
    /// A message that is one whole, uncompressed frame inside `input` (the common case: a small
    /// message read at once) is unmasked in place and returned as `.inPlace`, a view into `input`:
    /// no copy, no allocation. Every other message (fragmented, split across reads, compressed)
    /// is joined in the decoder's own buffer and returned as an owned array.
    public mutating func nextEvent(_ input: UnsafeMutableRawBufferPointer, consumed: inout Int,
                                   config: WebSocketDecoderConfig) -> WebSocketDecodedEvent? {
        while true {
            switch phase {
            case .failed:
                consumed = input.count
                return nil
            case .header:
                guard consumed < input.count || !headerSpill.isEmpty else { return nil }
                switch readHeader(UnsafeRawBufferPointer(input), consumed: &consumed, config) {
                case .needMore:
                    return nil
                case .failure(let failure):
                    return .inbound(fail(failure))
                case .frame(let info):
                    // A whole message in one frame, all of it in this input: hand it over in place.
                    if info.fin && !messageCompressed && (info.opcode == .text || info.opcode == .binary)
                        && info.remaining <= input.count - consumed {
                        return wholeMessageInPlace(input, consumed: &consumed, info)
                    }
                    if info.opcode.isControl {
                        control.removeAll(keepingCapacity: true)
                    } else if !messageCompressed {
                        // Reserve for the announced payload, but at most 1 MiB ahead of the bytes
                        // that actually arrive: a header alone must not make us allocate much.
                        message.reserveCapacity(message.count + min(info.remaining, 1 << 20))
                    }
                    phase = .payload(info)
                    // Zero-length frames complete immediately.
                }
            case .payload(var info):
                let available = input.count - consumed
                let take = min(available, info.remaining)
                if take > 0 {
                    let chunk = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(input)[consumed..<consumed + take])
                    consumed += take
                    if info.opcode.isControl {
                        Self.appendUnmasked(chunk, key: info.maskKey, offset: Int(info.maskOffset), to: &control)
                    } else if messageCompressed {
                        if let failure = inflateChunk(chunk, key: info.maskKey, offset: Int(info.maskOffset), limit: config.maxMessageBytes) {
                            return .inbound(fail(failure))
                        }
                    } else {
                        let start = message.count
                        Self.appendUnmasked(chunk, key: info.maskKey, offset: Int(info.maskOffset), to: &message)
                        if messageOpcode == .text {
                            // Fail fast: check the new bytes now, not at the end of the message.
                            let ok = message.withUnsafeBytes {
                                utf8.feed(UnsafeRawBufferPointer(rebasing: $0[start...]))
                            }
                            if !ok { return .inbound(fail(.invalidUTF8)) }
                        }
                    }
                    info.maskOffset = (info.maskOffset &+ UInt8(truncatingIfNeeded: take)) & 3
                    info.remaining -= take
                }
                if info.remaining > 0 {
                    phase = .payload(info)
                    return nil
                }
                phase = .header
                if let event = finishFrame(info, limit: config.maxMessageBytes) { return .inbound(event) }
            }
        }
    }

    /// The payload of a single-frame message that lies whole in `input`: unmasked where it is,
    /// text checked for UTF-8 at once (the same outcome as checking it chunk by chunk).
    private mutating func wholeMessageInPlace(_ input: UnsafeMutableRawBufferPointer, consumed: inout Int,
                                              _ info: FrameInfo) -> WebSocketDecodedEvent {
        let payload = UnsafeMutableRawBufferPointer(rebasing: input[consumed..<consumed + info.remaining])
        consumed += info.remaining
        let highBits = Self.unmaskInPlace(payload, key: info.maskKey, offset: 0)
        messageOpcode = nil
        // All ASCII (no byte with its high bit set) is valid UTF-8: only other text is validated.
        if info.opcode == .text && highBits != 0 {
            var validator = UTF8Validator()
            guard validator.feed(UnsafeRawBufferPointer(payload)), validator.isComplete else {
                return .inbound(fail(.invalidUTF8))
            }
        }
        return .inPlace(info.opcode, UnsafeRawBufferPointer(payload))
    }

    // MARK: - Header

    private enum HeaderResult {
        case needMore
        case frame(FrameInfo)
        case failure(WebSocketFailure)
    }

    /// Reads a whole header from the spill plus input. Headers are parsed straight from the
    /// input when no spill is pending and the input holds the whole header (the common case).
    private mutating func readHeader(_ input: UnsafeRawBufferPointer, consumed: inout Int,
                                     _ config: WebSocketDecoderConfig) -> HeaderResult {
        if headerSpill.isEmpty {
            let rest = UnsafeRawBufferPointer(rebasing: input[consumed...])
            if let size = Self.headerSize(rest), size <= rest.count {
                let result = parseHeader(UnsafeRawBufferPointer(rebasing: rest[0..<size]), config)
                consumed += size
                return result
            }
        }
        // Slow path: accumulate into the spill, one byte at a time up to the known size.
        while consumed < input.count {
            headerSpill.append(input[consumed])
            consumed += 1
            let size = headerSpill.withUnsafeBytes { Self.headerSize($0) }
            if let size, headerSpill.count == size {
                let result = headerSpill.withUnsafeBytes { parseHeader($0, config) }
                headerSpill.removeAll(keepingCapacity: true)
                return result
            }
        }
        return .needMore
    }

    /// Total header size (2 + extended length + 4 mask bytes) once the first two bytes are
    /// known; nil before that. Unmasked frames still count 4 mask bytes here: they fail anyway.
    private static func headerSize(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 2 else { return nil }
        let len7 = bytes[1] & 0x7F
        let ext = len7 == 126 ? 2 : (len7 == 127 ? 8 : 0)
        let mask = bytes[1] & 0x80 != 0 ? 4 : 0
        return 2 + ext + mask
    }

    /// Validates a complete header, in RFC order of concern: reserved bits, opcode, masking,
    /// control-frame rules, fragmentation sequence, binary policy, then the size limit.
    private mutating func parseHeader(_ h: UnsafeRawBufferPointer, _ config: WebSocketDecoderConfig) -> HeaderResult {
        let b0 = h[0]
        let b1 = h[1]
        let fin = b0 & 0x80 != 0
        // §5.2: RSV1-3 must be 0 unless an extension defines them; permessage-deflate defines
        // RSV1 (RFC 7692 §6), and only when it was negotiated.
        guard b0 & 0x30 == 0, b0 & 0x40 == 0 || inflation != nil else {
            return .failure(.protocolError("reserved bits set"))
        }
        let rsv1 = b0 & 0x40 != 0
        guard let opcode = WebSocketOpcode(rawValue: b0 & 0x0F) else {
            return .failure(.protocolError("reserved opcode"))
        }
        // §5.1: a server MUST close the connection upon an unmasked client frame.
        guard b1 & 0x80 != 0 else { return .failure(.protocolError("unmasked frame")) }
        var length: UInt64
        var offset = 2
        switch b1 & 0x7F {
        case 126:
            length = UInt64(h[2]) << 8 | UInt64(h[3])
            offset = 4
        case 127:
            length = 0
            for i in 2..<10 { length = length << 8 | UInt64(h[i]) }
            offset = 10
            // §5.2: the most significant bit of a 64-bit length MUST be 0.
            guard length & (1 << 63) == 0 else { return .failure(.protocolError("invalid length")) }
        case let len7:
            length = UInt64(len7)
        }
        let maskKey = h.loadUnaligned(fromByteOffset: offset, as: UInt32.self)

        if opcode.isControl {
            // §5.5: control frames are at most 125 bytes and MUST NOT be fragmented.
            guard fin else { return .failure(.protocolError("fragmented control frame")) }
            guard length <= 125 else { return .failure(.protocolError("control frame too long")) }
            // RFC 7692 §6.1: control frames are never compressed.
            guard !rsv1 else { return .failure(.protocolError("RSV1 set on a control frame")) }
        } else if opcode == .continuation {
            guard messageOpcode != nil else { return .failure(.protocolError("unexpected continuation frame")) }
            // RFC 7692 §6.1: only the first frame of a message carries RSV1.
            guard !rsv1 else { return .failure(.protocolError("RSV1 set on a continuation frame")) }
        } else {
            guard messageOpcode == nil else { return .failure(.protocolError("expected continuation frame")) }
            if opcode == .binary && config.rejectBinary { return .failure(.binaryNotSupported) }
            messageOpcode = opcode
            utf8 = UTF8Validator()
            // (Empty already after every message; the check spares the common case the call.)
            if !message.isEmpty { message.removeAll(keepingCapacity: true) }
            messageCompressed = rsv1
            messageWireBytes = 0
        }
        if !opcode.isControl && messageCompressed {
            // The limit applies to the inflated size, checked while inflating. The wire bytes
            // are bounded too: deflate never expands by more than a few bytes per 16 KiB.
            let wireLimit = config.maxMessageBytes + config.maxMessageBytes / 64 + 1024
            guard length <= UInt64(wireLimit - messageWireBytes) else {
                return .failure(.messageTooBig(limit: config.maxMessageBytes))
            }
            messageWireBytes += Int(length)
        } else if !opcode.isControl {
            // Checked now, before any payload is buffered.
            guard length <= UInt64(config.maxMessageBytes - message.count) else { return .failure(.messageTooBig(limit: config.maxMessageBytes)) }
        }
        return .frame(FrameInfo(remaining: Int(length), maskKey: maskKey, maskOffset: 0, opcode: opcode, fin: fin))
    }

    // MARK: - Frame completion

    /// Turns a fully read frame into an event, or nil for a non-final data fragment.
    private mutating func finishFrame(_ info: FrameInfo, limit: Int) -> WebSocketInbound? {
        switch info.opcode {
        case .ping:
            return .ping(control)
        case .pong:
            return .pong(control)
        case .close:
            return closeEvent(control)
        case .text, .binary, .continuation:
            guard info.fin, let opcode = messageOpcode else { return nil }
            if messageCompressed, let failure = finishInflating(limit: limit) { return fail(failure) }
            messageOpcode = nil
            let payload = message
            message = []
            if opcode == .text {
                guard utf8.isComplete else { return fail(.invalidUTF8) }
                return .text(payload)
            }
            return .binary(payload)
        }
    }

    /// §5.5.1/§7.1.5: an empty close payload means "no code"; one byte is malformed; a code
    /// must be a valid wire code and the reason valid UTF-8.
    private mutating func closeEvent(_ payload: [UInt8]) -> WebSocketInbound {
        if payload.isEmpty { return .close(code: nil, reason: []) }
        guard payload.count >= 2 else { return fail(.protocolError("invalid close payload")) }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard WebSocketCloseCode.isValidOnWire(code) else { return fail(.protocolError("invalid close code")) }
        let reason = Array(payload[2...])
        guard UTF8Validator.isValid(reason) else { return fail(.invalidUTF8) }
        return .close(code: code, reason: reason)
    }

    private mutating func fail(_ failure: WebSocketFailure) -> WebSocketInbound {
        phase = .failed
        message = []
        control = []
        inflation?.inflater = nil
        return .failure(failure)
    }

    // MARK: - Inflating

    /// Unmasks one chunk of a compressed frame's payload and inflates it onto `message`.
    private mutating func inflateChunk(_ chunk: UnsafeRawBufferPointer, key: UInt32, offset: Int, limit: Int) -> WebSocketFailure? {
        guard let inflater = inflaterForUse() else { return .inflateOutOfMemory }
        let start = message.count
        let outcome = withUnsafeTemporaryAllocation(byteCount: chunk.count, alignment: 8) { tmp -> InflateOutcome in
            tmp.copyMemory(from: chunk)
            Self.unmaskInPlace(tmp, key: key, offset: offset)
            return inflater.inflate(UnsafeRawBufferPointer(tmp), into: &message, limit: limit)
        }
        return checkInflated(from: start, outcome, limit: limit)
    }

    /// The failure after inflating, if any. The new text is checked for UTF-8 first: the bytes
    /// inflated before a zlib error or the limit are the same however the input was split, so
    /// the outcome does not depend on the reads.
    private mutating func checkInflated(from start: Int, _ outcome: InflateOutcome, limit: Int) -> WebSocketFailure? {
        if messageOpcode == .text && message.count > start {
            let ok = message.withUnsafeBytes { utf8.feed(UnsafeRawBufferPointer(rebasing: $0[start...])) }
            if !ok { return .invalidUTF8 }
        }
        return Self.failure(for: outcome, limit: limit)
    }

    /// §7.2.2: the end of a compressed message: inflate the 0x00 0x00 0xff 0xff tail the sender
    /// removed, then drop the inflater unless the client takes its context over.
    private mutating func finishInflating(limit: Int) -> WebSocketFailure? {
        guard let inflater = inflaterForUse() else { return .inflateOutOfMemory }
        let start = message.count
        let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]
        let outcome = tail.withUnsafeBytes { inflater.inflate($0, into: &message, limit: limit) }
        if let failure = checkInflated(from: start, outcome, limit: limit) { return failure }
        if inflation?.clientNoContextTakeover == true { inflation?.inflater = nil }
        messageCompressed = false
        return nil
    }

    /// The connection's inflater, created on first use.
    private mutating func inflaterForUse() -> ZlibInflater? {
        if let inflater = inflation?.inflater { return inflater }
        guard let inflater = ZlibInflater() else { return nil }
        inflation?.inflater = inflater
        return inflater
    }

    private static func failure(for outcome: InflateOutcome, limit: Int) -> WebSocketFailure? {
        switch outcome {
        case .ok: return nil
        case .tooBig: return .messageTooBig(limit: limit)
        case .corrupt: return .invalidCompressedData
        case .outOfMemory: return .inflateOutOfMemory
        }
    }

    // MARK: - Masking

    /// Appends `chunk` XOR-ed with the 4-byte mask key, continuing at byte `offset` of the
    /// frame's payload (so a payload split over reads unmasks correctly).
    ///
    /// `key` holds the four wire bytes in memory order (it was loaded unaligned from the
    /// header), so reading them back through `withUnsafeBytes(of:)` is endian-independent, and
    /// so is the 8-byte pattern built from them.
    private static func appendUnmasked(
        _ chunk: UnsafeRawBufferPointer, key: UInt32, offset: Int, to out: inout [UInt8]
    ) {
        let start = out.count
        out.append(contentsOf: chunk)
        out.withUnsafeMutableBytes { all in
            unmaskInPlace(UnsafeMutableRawBufferPointer(rebasing: all[start...]), key: key, offset: offset)
        }
    }

    /// XORs `buf` with the mask key, starting at byte `offset` of the frame's payload: 8 bytes
    /// at a time, then 4, then one by one. Returns the high bits (0x80) of the unmasked bytes
    /// OR-ed together: 0 exactly when they are all ASCII.
    @discardableResult
    private static func unmaskInPlace(_ buf: UnsafeMutableRawBufferPointer, key: UInt32, offset: Int) -> UInt64 {
        var pattern = maskPattern(key: key, offset: offset)
        guard let base = buf.baseAddress else { return 0 }
        var i = 0
        let n = buf.count
        var seen: UInt64 = 0
        while i + 8 <= n {
            let v = base.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ pattern
            base.storeBytes(of: v, toByteOffset: i, as: UInt64.self)
            seen |= v
            i += 8
        }
        // The rest starts at a multiple of 8 (hence of 4): the same key phase as byte 0.
        withUnsafeBytes(of: &pattern) { p in
            var j = 0
            if i + 4 <= n {
                let v = base.loadUnaligned(fromByteOffset: i, as: UInt32.self) ^ p.loadUnaligned(as: UInt32.self)
                base.storeBytes(of: v, toByteOffset: i, as: UInt32.self)
                seen |= UInt64(v)
                i += 4
                j = 4
            }
            while i < n {
                let v = base.load(fromByteOffset: i, as: UInt8.self) ^ p[j]
                base.storeBytes(of: v, toByteOffset: i, as: UInt8.self)
                seen |= UInt64(v)
                i += 1
                j += 1
            }
        }
        return seen & 0x8080_8080_8080_8080
    }

    /// The mask key repeated over 8 bytes in memory order, starting at key byte `offset & 3`.
    ///
    /// `key` holds the four wire bytes in memory order (it was loaded unaligned from the
    /// header), so the pattern is built from its bytes in memory order too: endian-independent.
    @inline(__always)
    private static func maskPattern(key: UInt32, offset: Int) -> UInt64 {
        #if _endian(little)
            // Memory order is least significant first: rotating right by whole bytes moves key
            // byte `offset` to the front.
            let phased = key.rotatedRight(bytes: offset & 3)
            return UInt64(phased) | UInt64(phased) << 32
        #else
            var pattern: UInt64 = 0
            withUnsafeBytes(of: key) { k in
                withUnsafeMutableBytes(of: &pattern) { p in
                    for i in 0..<8 { p[i] = k[(offset + i) & 3] }
                }
            }
            return pattern
        #endif
    }
}

extension UInt32 {
    /// The value rotated right by `bytes` whole bytes (0...3).
    @inline(__always)
    fileprivate func rotatedRight(bytes: Int) -> UInt32 {
        let bits = UInt32(truncatingIfNeeded: bytes * 8)
        return bits == 0 ? self : (self >> bits) | (self << (32 - bits))
    }
}
