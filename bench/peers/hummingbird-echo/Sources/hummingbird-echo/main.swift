// A WebSocket echo server on Hummingbird 2: every text or binary message is sent back unchanged.
// Usage: hummingbird-echo [--host 127.0.0.1] [--port P]. Only loopback addresses are accepted,
// since it exists to be measured by the bundled load generator on the same machine.
import Foundation
import Hummingbird
import HummingbirdWebSocket

var host = "127.0.0.1"
var port = 9001
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    switch flag {
    case "--host": host = arguments.next() ?? host
    case "--port": port = arguments.next().flatMap { Int($0) } ?? port
    default:
        print("usage: hummingbird-echo [--host 127.0.0.1] [--port P]")
        exit(2)
    }
}
let address = (host: host, port: port)
guard host == "127.0.0.1" || host == "::1" || host == "localhost" else {
    print("hummingbird-echo: refusing non-loopback host \(host)")
    exit(2)
}

let router = Router()
let app = Application(
    router: router,
    server: .http1WebSocketUpgrade(
        // No server-initiated pings during a measurement, as the other peers send none.
        configuration: .init(ws: .init(autoPing: .disabled))
    ) { _, _, _ in
        .upgrade([:]) { inbound, outbound, _ in
            for try await message in inbound.messages(maxSize: 1 << 20) {
                switch message {
                case .text(let text): try await outbound.write(.text(text))
                case .binary(let bytes): try await outbound.write(.binary(bytes))
                }
            }
        }
    },
    configuration: .init(address: .hostname(host, port: port), serverName: nil),
    onServerRunning: { _ in print("hummingbird-echo: listening on \(address.host):\(address.port)") }
)
try await app.runService()
