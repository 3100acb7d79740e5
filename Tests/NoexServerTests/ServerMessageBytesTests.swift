import NoexJSON
import Testing

@testable import NoexServer

/// The byte builders of the hot paths write exactly what serialising the message objects writes.
@Suite struct ServerMessageBytesTests {
    static let data: [JSON] = [
        .null, 7, -0.5, "text \"quoted\" \u{1}\n é", [],
        ["id": "k1", "n": 3, "nested": ["2": true, "1": [1, 2.5, .null]], "_version": 1],
        [["a": 1], ["b": ["c": "d"]]],
    ]

    @Test(arguments: [JSON.int(1), .int(-9_007_199_254_740_993), .double(1.5)])
    func resultBytesMatchTheResultObject(id: JSON) {
        for d in Self.data {
            #expect(ServerMessage.resultBytes(id: id, data: d) == ServerMessage.result(id: id, data: d).serializedBytes)
        }
    }

    /// A record with its text attached (as the store keeps them) takes the direct path.
    @Test(arguments: [JSON.int(1), .int(0), .int(-9_007_199_254_740_993), .int(.max), .double(1.5)])
    func resultBytesOfARecordWithItsText(id: JSON) {
        var record: JSONObject = ["id": "k1", "n": 3, "s": "é \"q\"", "nested": ["2": true, "1": [1, 2.5]], "_version": 1]
        let plain = record
        record.attachText()
        #expect(record.attachedText != nil)
        let bytes = ServerMessage.resultBytes(id: id, data: .object(record))
        #expect(bytes == ServerMessage.result(id: id, data: .object(plain)).serializedBytes)
        #expect(String(decoding: bytes, as: UTF8.self).hasSuffix(#","type":"result","data":"# + plain.jsonString + "}"))
    }

    @Test func subscriptionPushBytesMatchThePushObject() {
        for d in Self.data {
            // Plain ids take the direct path; quotes, backslashes and control characters the escaping one.
            for sub in ["sub-1", "sub-123456", "odd\"id\\", "", "tab\there", "nl\n", "\u{1}", "ünï\u{7F}/\u{2028}"] {
                #expect(ServerMessage.subscriptionPushBytes(subscriptionId: sub, serializedData: d.serializedBytes)
                    == ServerMessage.subscriptionPush(subscriptionId: sub, data: d).serializedBytes)
            }
        }
    }
}
