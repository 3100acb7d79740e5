/// Something a server sent, reported by `ServerFrameParser.feed`. The payload is only valid
/// for the duration of the callback.
public enum ServerEvent {
    /// A complete data message (fragments already joined); `opcode` is `.text` or `.binary`.
    case message(Opcode, UnsafeRawBufferPointer)
    case ping(UnsafeRawBufferPointer)
    case pong
    /// A close frame; `code` is nil when the frame carried no status code.
    case close(code: UInt16?)
}

/// Why the server's byte stream cannot be a valid RFC 6455 server-to-client stream.
public enum FrameError: Error, Equatable, Sendable {
    case maskedServerFrame
    case reservedBitsSet
    case unknownOpcode(UInt8)
    case fragmentedControlFrame
    case controlFrameTooLong
    case unexpectedContinuation
    case interleavedDataFrame
    case messageTooLarge
}

/// Incremental parser of server frames (which are unmasked, RFC 6455 §5.1).
///
/// Complete frames are reported straight out of the caller's read buffer without copying;
/// only a frame split across reads is gathered into `pending`, and only up to its own end,
/// so `pending` never holds more than one frame.
public struct ServerFrameParser {
    public let maxMessageSize: Int
    private var pending: [UInt8] = []
    private var fragments: [UInt8] = []
    private var fragmentOpcode: Opcode?

    public init(maxMessageSize: Int = 16 << 20) {
        self.maxMessageSize = maxMessageSize
    }

    /// Parses `input`, calling `onEvent` for each complete message or control frame.
    /// After an error the stream is unusable and the connection should be dropped.
    public mutating func feed(
        _ input: UnsafeRawBufferPointer, _ onEvent: (ServerEvent) -> Void
    ) -> FrameError? {
        var input = input[...]
        if !pending.isEmpty {
            // Complete the one frame that straddled the previous read.
            while true {
                let extent = pending.withUnsafeBytes { Self.extent(of: UnsafeRawBufferPointer($0)) }
                switch extent {
                case .needHeader(let total):
                    let take = min(total - pending.count, input.count)
                    pending.append(contentsOf: input.prefix(take))
                    input = input.dropFirst(take)
                    if pending.count < total { return nil }
                case .frame(let header, let length):
                    if let error = check(header, length: length) { return error }
                    let total = header.headerLength + length
                    let take = min(total - pending.count, input.count)
                    pending.append(contentsOf: input.prefix(take))
                    input = input.dropFirst(take)
                    if pending.count < total { return nil }
                    var error: FrameError?
                    pending.withUnsafeBytes { bytes in
                        let payload = UnsafeRawBufferPointer(rebasing: bytes[header.headerLength..<total])
                        error = deliver(header, payload: payload, onEvent)
                    }
                    pending.removeAll(keepingCapacity: true)
                    if let error { return error }
                }
                if pending.isEmpty { break }
            }
        }
        // Fast path: whole frames read in place.
        var rest = UnsafeRawBufferPointer(rebasing: input)
        while !rest.isEmpty {
            switch Self.extent(of: rest) {
            case .needHeader:
                pending.append(contentsOf: rest)
                return nil
            case .frame(let header, let length):
                if let error = check(header, length: length) { return error }
                let total = header.headerLength + length
                guard rest.count >= total else {
                    pending.append(contentsOf: rest)
                    return nil
                }
                let payload = UnsafeRawBufferPointer(rebasing: rest[header.headerLength..<total])
                if let error = deliver(header, payload: payload, onEvent) { return error }
                rest = UnsafeRawBufferPointer(rebasing: rest[total...])
            }
        }
        return nil
    }

    struct Header {
        var fin: Bool
        var rsv: UInt8
        var opcode: UInt8
        var masked: Bool
        var headerLength: Int
    }

    enum Extent {
        /// The header is incomplete; at least this many bytes are needed to decode it.
        case needHeader(Int)
        case frame(Header, length: Int)
    }

    static func extent(of bytes: UnsafeRawBufferPointer) -> Extent {
        guard bytes.count >= 2 else { return .needHeader(2) }
        let b0 = bytes[0], b1 = bytes[1]
        let masked = b1 & 0x80 != 0
        let short = Int(b1 & 0x7F)
        var headerLength = 2
        var length = short
        if short == 126 {
            headerLength = 4
            guard bytes.count >= headerLength else { return .needHeader(headerLength) }
            length = Int(bytes[2]) << 8 | Int(bytes[3])
        } else if short == 127 {
            headerLength = 10
            guard bytes.count >= headerLength else { return .needHeader(headerLength) }
            var value: UInt64 = 0
            for i in 2..<10 { value = value << 8 | UInt64(bytes[i]) }
            // Lengths above Int.max are clamped; `check` rejects them as too large anyway.
            length = value > UInt64(Int.max >> 1) ? Int.max >> 1 : Int(value)
        }
        if masked {
            headerLength += 4
            guard bytes.count >= headerLength else { return .needHeader(headerLength) }
        }
        let header = Header(
            fin: b0 & 0x80 != 0, rsv: b0 & 0x70, opcode: b0 & 0x0F, masked: masked,
            headerLength: headerLength)
        return .frame(header, length: length)
    }

    private func check(_ header: Header, length: Int) -> FrameError? {
        if header.masked { return .maskedServerFrame }
        if header.rsv != 0 { return .reservedBitsSet }
        guard let opcode = Opcode(rawValue: header.opcode) else { return .unknownOpcode(header.opcode) }
        if opcode.isControl {
            if !header.fin { return .fragmentedControlFrame }
            if length > 125 { return .controlFrameTooLong }
        } else if length > maxMessageSize || fragments.count + length > maxMessageSize {
            return .messageTooLarge
        }
        return nil
    }

    private mutating func deliver(
        _ header: Header, payload: UnsafeRawBufferPointer, _ onEvent: (ServerEvent) -> Void
    ) -> FrameError? {
        // `check` has validated the opcode.
        let opcode = Opcode(rawValue: header.opcode)!
        switch opcode {
        case .ping: onEvent(.ping(payload))
        case .pong: onEvent(.pong)
        case .close:
            let code = payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil
            onEvent(.close(code: code))
        case .text, .binary:
            if fragmentOpcode != nil { return .interleavedDataFrame }
            if header.fin {
                onEvent(.message(opcode, payload))
            } else {
                fragmentOpcode = opcode
                fragments.append(contentsOf: payload)
            }
        case .continuation:
            guard let first = fragmentOpcode else { return .unexpectedContinuation }
            fragments.append(contentsOf: payload)
            if header.fin {
                fragments.withUnsafeBytes { onEvent(.message(first, $0)) }
                fragments.removeAll(keepingCapacity: true)
                fragmentOpcode = nil
            }
        }
        return nil
    }
}
