// permessage-deflate (RFC 7692): what the server offers to negotiate, and what one connection
// agreed on.

/// Server-side settings of permessage-deflate. The extension is negotiated only when
/// `WebSocketServerConfig.compression` is set; each client that offers it gets it.
public struct PerMessageDeflateConfig: Sendable, Equatable {
    /// Outbound messages with at least this many payload bytes are compressed; smaller ones go
    /// plain (compressing a short JSON answer costs more CPU than the bytes it saves).
    public var threshold: Int
    /// Compress every outbound message on its own (no LZ77 window kept between messages). The
    /// server then needs no compressor per connection: one loop-wide compressor serves all of
    /// them. False keeps a compressor per connection (better ratio for similar messages,
    /// 2^(windowBits+2) + 2^(memLevel+9) bytes of zlib state each).
    public var serverNoContextTakeover: Bool
    /// Ask clients to compress every message on its own: the server then keeps no inflate
    /// window between messages, so an idle connection holds no zlib state at all.
    public var clientNoContextTakeover: Bool
    /// Largest LZ77 window (log2, 9–15) the server compresses with; a client may ask for less.
    /// zlib cannot compress with a 256-byte window, so an offer that insists on 8 is declined.
    public var serverMaxWindowBits: Int
    /// zlib memLevel (1–9) of the compressors: memory against speed and ratio.
    public var memLevel: Int
    /// zlib compression level (1–9; 1 is fastest).
    public var level: Int

    public init(threshold: Int = 1024, serverNoContextTakeover: Bool = true, clientNoContextTakeover: Bool = false,
                serverMaxWindowBits: Int = 15, memLevel: Int = 8, level: Int = 6) {
        precondition(threshold >= 0, "threshold must not be negative")
        precondition((9...15).contains(serverMaxWindowBits), "serverMaxWindowBits must be 9...15")
        precondition((1...9).contains(memLevel), "memLevel must be 1...9")
        precondition((1...9).contains(level), "level must be 1...9")
        self.threshold = threshold
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.memLevel = memLevel
        self.level = level
    }
}

/// What one connection negotiated (the accepted offer plus the server's own choices).
public struct PerMessageDeflateParams: Sendable, Equatable {
    /// The server compresses each message on its own.
    public var serverNoContextTakeover: Bool
    /// The client compresses each message on its own: the inflater is dropped after each message.
    public var clientNoContextTakeover: Bool
    /// Window (log2) the server compresses with.
    public var serverMaxWindowBits: Int
    /// Whether `server_max_window_bits` goes into the response (it must when the client sent it,
    /// and it does when the server's limit is below 15).
    var announcesServerWindow: Bool

    public init(serverNoContextTakeover: Bool = false, clientNoContextTakeover: Bool = false,
                serverMaxWindowBits: Int = 15) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.announcesServerWindow = serverMaxWindowBits < 15
    }

    /// The `Sec-WebSocket-Extensions` response value.
    public var responseValue: String {
        var s = "permessage-deflate"
        if serverNoContextTakeover { s += "; server_no_context_takeover" }
        if clientNoContextTakeover { s += "; client_no_context_takeover" }
        if announcesServerWindow { s += "; server_max_window_bits=\(serverMaxWindowBits)" }
        return s
    }
}
