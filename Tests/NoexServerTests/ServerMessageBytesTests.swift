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

    /// `writeResult` into a kept buffer (as the core reuses one between answers): whatever the
    /// buffer held before, and whoever still shares it, each answer is exactly `resultBytes`.
    @Test func writeResultReusesABufferWithoutTouchingItsSharers() {
        var record: JSONObject = ["id": "k1", "n": 3, "s": "é"]
        record.attachText()
        var buffer = Array(repeating: UInt8(ascii: "x"), count: 500)
        var answers: [[UInt8]] = []
        for (id, d) in [(JSON.int(7), JSON.object(record)), (.int(123_456_789), .object(record)), (.int(2), Self.data[5]),
                        (.int(3), .object(record)), (.double(1.5), .object(record)), (.int(4), .null)] {
            ServerMessage.writeResult(id: id, data: d, into: &buffer)
            #expect(buffer == ServerMessage.resultBytes(id: id, data: d))
            answers.append(buffer)  // shares the buffer, as a transport holding an answer would
        }
        #expect(answers[0] == ServerMessage.resultBytes(id: 7, data: .object(record)))
        #expect(answers[1] == ServerMessage.resultBytes(id: 123_456_789, data: .object(record)))
    }

    /// A push is sent as the subscription's head (built once), the shared data and the tail:
    /// together they are the push object's serialisation, for ids of every length.
    @Test func subscriptionPushHeadDataAndTailAreThePushObject() {
        var ids = (0...19).map { "sub-" + String(repeating: "9", count: $0) }
        ids += ["sub-1", "sub-10", "sub-18446744073709551615", "x", "odd\"id\\", "\u{1}"]
        for d in Self.data {
            for sub in ids {
                let head = ServerMessage.subscriptionPushHead(subscriptionId: sub)
                #expect(head + d.serializedBytes + ServerMessage.subscriptionPushTail
                    == ServerMessage.subscriptionPush(subscriptionId: sub, data: d).serializedBytes, "\(sub)")
            }
        }
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
