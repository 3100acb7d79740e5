import NoexLoop

/// The server's RFC 6455 §5.2 opcode type, shared so client and server agree on one table.
public typealias Opcode = WebSocketOpcode
