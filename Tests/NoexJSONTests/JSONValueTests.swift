import Testing
@testable import NoexJSON

@Suite struct JSONValueTests {
    @Test func numbersCompareByValueAcrossKinds() {
        #expect(JSON.int(1) == JSON.double(1.0))
        #expect(JSON.int(1) != JSON.double(1.5))
        #expect(JSON.int(1).hashValue == JSON.double(1.0).hashValue)
        #expect(JSON.int(1) != JSON.string("1"))
    }

    @Test func objectsIgnoreKeyOrderButKeepIt() {
        let a: JSON = ["x": 1, "y": [true, .null]]
        let b: JSON = ["y": [true, .null], "x": 1]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a.objectValue?.keys == ["x", "y"])
        #expect(b.objectValue?.keys == ["y", "x"])
        let c: JSON = ["x": 1, "y": [.null, true]]
        #expect(a != c)
    }

    @Test func settingAnExistingKeyKeepsItsPosition() {
        var o: JSONObject = ["a": 1, "b": 2]
        o["a"] = 3
        #expect(o.keys == ["a", "b"])
        o["a"] = nil
        #expect(o.keys == ["b"])
    }

    @Test func intValueOnlyForWholeNumbers() {
        #expect(JSON.double(3).intValue == 3)
        #expect(JSON.double(3.5).intValue == nil)
        #expect(JSON.string("3").intValue == nil)
    }
}
