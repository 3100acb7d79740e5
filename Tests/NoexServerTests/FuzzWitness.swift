import NoexJSON
import Testing

/// A well-behaved client that keeps asking `store.*` questions with exactly known answers while
/// other connections misbehave. It alone writes to the `products` bucket, so it can predict
/// every answer byte for byte.
final class FuzzWitness {
    private let socket: FuzzSocket
    private var nextID: Int64 = 1
    private var records: [JSON] = []
    private var priceSum: Int64 = 0
    private(set) var checks = 0
    private(set) var failures = 0

    init?(port: Int) {
        guard let s = FuzzSocket(port: port), s.handshake() else { return nil }
        guard case .text(let welcome) = s.next(timeoutMs: 5000), welcome.contains("\"welcome\"") else { return nil }
        socket = s
    }

    private func fail(_ what: String, _ context: String, _ sourceLocation: SourceLocation) {
        failures += 1
        Issue.record("witness: \(what) (after: \(context))", sourceLocation: sourceLocation)
    }

    /// One request/answer round; the kind rotates between insert, count, get and sum.
    /// Returns false when the answer was wrong or missing.
    @discardableResult
    func check(_ context: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let id = nextID
        nextID += 1
        checks += 1
        let kind = records.isEmpty ? 0 : Int(id % 4)
        let request: JSON
        switch kind {
        case 0:
            let price = id % 7
            request = ["id": .int(id), "type": "store.insert", "bucket": "products",
                       "data": ["title": .string("w\(id)"), "price": .int(price), "stock": 1]]
        case 1: request = ["id": .int(id), "type": "store.count", "bucket": "products"]
        case 2: request = ["id": .int(id), "type": "store.get", "bucket": "products", "key": records[Int(id) % records.count]["id"] ?? .null]
        default: request = ["id": .int(id), "type": "store.sum", "bucket": "products", "field": "price"]
        }
        socket.sendText(request.jsonString)
        guard case .text(let text) = socket.nextAnswer(timeoutMs: 5000) else {
            fail("no answer to \(request.jsonString)", context, sourceLocation)
            return false
        }
        switch kind {
        case 0:
            guard let answer = FuzzJSON.parse(text), let data = answer["data"]?.objectValue,
                  answer["id"] == .int(id), answer["type"] == "result",
                  Set(data.keys) == ["id", "title", "price", "stock", "_version", "_createdAt", "_updatedAt"],
                  data["title"] == .string("w\(id)"), data["price"] == .int(id % 7), data["stock"] == 1,
                  data["_version"] == 1, data["id"]?.stringValue?.count == 36 else {
                fail("bad insert answer \(text)", context, sourceLocation)
                return false
            }
            records.append(.object(data))
            priceSum += id % 7
        case 1:
            let want = #"{"id":\#(id),"type":"result","data":\#(records.count)}"#
            guard text == want else {
                fail("count: want \(want), got \(text)", context, sourceLocation)
                return false
            }
        case 2:
            let want: JSON = ["id": .int(id), "type": "result", "data": records[Int(id) % records.count]]
            guard FuzzJSON.parse(text) == want else {
                fail("get: want \(want.jsonString), got \(text)", context, sourceLocation)
                return false
            }
        default:
            let want = #"{"id":\#(id),"type":"result","data":\#(priceSum)}"#
            guard text == want else {
                fail("sum: want \(want), got \(text)", context, sourceLocation)
                return false
            }
        }
        return true
    }
}
