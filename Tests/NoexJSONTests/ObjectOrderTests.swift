import Testing
@testable import NoexJSON

/// JavaScript orders an object's array-index keys first, ascending, then the other keys in
/// insertion order; `JSON.stringify` writes that order. Expected outputs are Node's.
@Suite struct ObjectOrderTests {
    static let parsed: [(String, String)] = [
        (#"{"b":1,"2":2,"a":3,"1":4}"#, #"{"1":4,"2":2,"b":1,"a":3}"#),
        (#"{"10":1,"9":2,"01":3,"-1":4,"4294967294":5,"4294967295":6,"1.5":7,"0":8," 1":9,"1e3":10}"#,
         #"{"0":8,"9":2,"10":1,"4294967294":5,"01":3,"-1":4,"4294967295":6,"1.5":7," 1":9,"1e3":10}"#),
        (#"{"a":1,"3":2,"a":3,"3":4,"2":5}"#, #"{"2":5,"3":4,"a":3}"#),
        (#"{"z":1,"y":2}"#, #"{"z":1,"y":2}"#),
        (#"{"100":1,"20":2,"3":3,"99999999999":4}"#, #"{"3":3,"20":2,"100":1,"99999999999":4}"#),
    ]

    @Test(arguments: parsed)
    func parsedObjectsStringifyInJavaScriptOrder(_ text: String, _ expected: String) throws {
        #expect(try JSON.parse(text).jsonString == expected)
    }

    @Test func mutationsFollowTheSameOrder() {
        // Node: o = {x:1}; o["5"]=2; o.y=3; o["5"]=4; delete o.x; o.x=5; o["0"]=6
        var o: JSONObject = ["x": 1]
        o["5"] = 2
        o["y"] = 3
        o["5"] = 4
        o["x"] = nil
        o["x"] = 5
        o["0"] = 6
        #expect(o.jsonString == #"{"0":6,"5":4,"y":3,"x":5}"#)
        #expect(o.keys == ["0", "5", "y", "x"])
        o["5"] = nil
        o["3"] = 7
        #expect(o.keys == ["0", "3", "y", "x"])
        #expect(o.removeValue(forKey: "0") == 6)
        o["1"] = 8
        #expect(o.keys == ["1", "3", "y", "x"])
    }

    @Test func literalsAndPairsUseTheSameOrder() {
        let o: JSONObject = ["b": 1, "7": 2, "a": 3, "2": 4]
        #expect(o.keys == ["2", "7", "b", "a"])
        #expect(JSONObject([("k", 1), ("0", 2)]).keys == ["0", "k"])
    }

    /// Duplicate keys in every shape the parser's small-object path must notice.
    static let duplicates: [(String, String)] = [
        (#"{"a":1,"ab":2,"a":3}"#, #"{"a":3,"ab":2}"#),
        (#"{"ab":1,"a":2,"b":3,"ab":4}"#, #"{"ab":4,"a":2,"b":3}"#),
        (#"{"":1,"x":2,"":3}"#, #"{"":3,"x":2}"#),
        (#"{"a":1,"\u0061":2}"#, #"{"a":2}"#),
        (#"{"\n":1,"\u000a":2,"\u000A":3}"#, #"{"\n":3}"#),
        (#"{"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"ka":10,"kb":11,"kc":12,"kd":13,"ke":14,"kf":15,"k1":16}"#,
         #"{"k1":16,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"ka":10,"kb":11,"kc":12,"kd":13,"ke":14,"kf":15}"#),
        (#"{"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"ka":10,"kb":11,"kc":12,"kd":13,"ke":14,"kf":15,"kg":16,"k1":17}"#,
         #"{"k1":17,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"ka":10,"kb":11,"kc":12,"kd":13,"ke":14,"kf":15,"kg":16}"#),
        (#"{"x":{"a":1,"a":2},"y":[{"b":1,"c":2,"b":3}],"x":{"z":0}}"#, #"{"x":{"z":0},"y":[{"b":3,"c":2}]}"#),
    ]

    @Test(arguments: duplicates)
    func duplicateKeysLastValueFirstPosition(_ text: String, _ expected: String) throws {
        let value = try JSON.parse(text)
        #expect(value.jsonString == expected)
        #expect(value.objectValue?.count == Set(value.objectValue?.keys ?? []).count)
    }

    @Test func manyDistinctKeysWithSharedPrefixes() throws {
        let keys = (0..<40).map { "key" + String(repeating: "x", count: $0 % 7) + String($0) }
        let text = "{" + keys.map { #""\#($0)":1"# }.joined(separator: ",") + "}"
        let value = try JSON.parse(text)
        #expect(value.objectValue?.keys == keys)
        for n in 1...17 {
            let sub = "{" + keys.prefix(n).map { #""\#($0)":true"# }.joined(separator: ",") + "}"
            #expect(try JSON.parse(sub).objectValue?.keys == Array(keys.prefix(n)))
        }
    }

    @Test func arrayIndexRecognition() {
        for key in ["0", "1", "9", "10", "4294967294", "123"] { #expect(JSONObject.isArrayIndex(key), "\(key)") }
        for key in ["", "01", "00", "-1", "+1", "1.0", "1e3", " 1", "1 ", "4294967295", "99999999999", "a1", "١"] {
            #expect(!JSONObject.isArrayIndex(key), "\(key)")
        }
    }
}
