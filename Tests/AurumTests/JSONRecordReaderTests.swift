import Foundation
import Testing

@testable import Aurum

@Suite("JSONRecordReader")
struct JSONRecordReaderTests {
    struct Field: Equatable, CustomStringConvertible {
        var name: String
        var value: Value
        init(_ name: String, _ value: Value) {
            self.name = name
            self.value = value
        }
        var description: String { "\(name)=\(value)" }
    }

    static func options(
        _ layout: JSONLayout = .array, path: [String] = [], flatten: Bool = true, chunk: Int? = nil, maxDepth: Int? = nil
    ) -> JSONReadOptions {
        var o = JSONReadOptions()
        o.layout = layout
        o.recordPath = path
        o.flatten = flatten
        if let chunk { o.chunkSize = chunk }
        if let maxDepth { o.maxDepth = maxDepth }
        return o
    }

    /// Every item of `text`, and the error that stopped reading, if any.
    static func readAll(_ bytes: [UInt8], _ options: JSONReadOptions, name: String = "t.json") -> (
        items: [JSONReadItem], error: JSONReadError?
    ) {
        var items: [JSONReadItem] = []
        do {
            let reader = try JSONRecordReader(bytes: bytes, name: name, options: options)
            while let item = try reader.next() { items.append(item) }
            #expect(reader.itemsRead == items.count)
            return (items, nil)
        } catch let error as JSONReadError {
            return (items, error)
        } catch {
            Issue.record("unexpected error type \(error)")
            return (items, nil)
        }
    }

    static func readAll(_ text: String, _ options: JSONReadOptions = options(), name: String = "t.json") -> (
        items: [JSONReadItem], error: JSONReadError?
    ) {
        readAll(Array(text.utf8), options, name: name)
    }

    /// The records of `text`, failing the test on a problem or an error.
    static func records(_ text: String, _ options: JSONReadOptions = options()) -> [JSONRecord] {
        let (items, error) = readAll(text, options)
        #expect(error == nil, "\(String(describing: error))")
        return items.compactMap { item in
            switch item {
            case .record(let r): return r
            case .problem(let line, let reason, _):
                Issue.record("unexpected problem at line \(line): \(reason)")
                return nil
            }
        }
    }

    static func fields(_ r: JSONRecord) -> [Field] { r.fields.map { Field($0.0, $0.1) } }

    static func render(_ items: [JSONReadItem]) -> [String] {
        items.map { item in
            switch item {
            case .record(let r): return "\(r.line): " + r.fields.map { "\($0.0)=\($0.1)" }.joined(separator: " | ")
            case .problem(let line, let reason, let raw): return "\(line)! \(reason) <\(raw)>"
            }
        }
    }

    // MARK: Layouts and paths

    @Test func topLevelArray() {
        let rs = Self.records(
            """
            [
              {"id": 1, "name": "Ann"},
              {"id": 2, "name": "Bob", "vip": true}
            ]
            """)
        #expect(rs.count == 2)
        #expect(Self.fields(rs[0]) == [Field("id", .integer(1)), Field("name", .text("Ann"))])
        #expect(Self.fields(rs[1]) == [Field("id", .integer(2)), Field("name", .text("Bob")), Field("vip", .integer(1))])
        #expect(rs.map(\.line) == [2, 3])
        #expect(rs[1]["name"] == .text("Bob"))
    }

    static let shop = """
        {"meta": {"generated": "2024", "nested": [{"customers": [1]}, "}]"], "customers": "no"},
         "customers": [{"wrong": true}],
         "data": {"count": 2, "customers": [{"id": 1},
                                            {"id": 2}], "next": {"x": [[], {}]}},
         "tail": [1, 2, {"z": null}]}
        """

    @Test func recordPathAtDepthTwoWithMembersBeforeAndAfter() {
        let rs = Self.records(Self.shop, Self.options(path: ["data", "customers"]))
        #expect(rs.map(Self.fields) == [[Field("id", .integer(1))], [Field("id", .integer(2))]])
        #expect(rs.map(\.line) == [3, 4])
    }

    @Test func recordPathAtTopLevel() {
        let rs = Self.records(Self.shop, Self.options(path: ["customers"]))
        #expect(rs.map(Self.fields) == [[Field("wrong", .integer(1))]])
    }

    @Test func missingOrWrongPath() {
        func message(_ path: [String], _ text: String = JSONRecordReaderTests.shop) -> String? {
            Self.readAll(text, Self.options(path: path), name: "shop.json").error?.description
        }
        #expect(message(["data", "orders"]) == #"shop.json: no array at $.data.orders (no member "orders" in $.data)"#)
        #expect(message(["nope"]) == #"shop.json: no array at $.nope (no member "nope" in $)"#)
        #expect(message(["data"]) == "shop.json: no array at $.data (found object)")
        #expect(message(["data", "count"]) == "shop.json: no array at $.data.count (found number)")
        #expect(message(["meta", "generated", "x"]) == "shop.json: no array at $.meta.generated.x (found string at $.meta.generated)")
        #expect(message([]) == "shop.json: no array at $ (found object)")
        #expect(message([], "  42 ") == "shop.json: no array at $ (found number)")
        #expect(message(["a"], "\"text\"") == "shop.json: no array at $.a (found string at $)")
        #expect(message(["odd key"], "{}") == #"shop.json: no array at $['odd key'] (no member "odd key" in $)"#)
        let error = Self.readAll(Self.shop, Self.options(path: ["data", "orders"]), name: "shop.json").error
        #expect(error?.line == 0)
        #expect(error?.path == "shop.json")
    }

    @Test func pathInitThrowsBeforeAnyRecord() {
        #expect(throws: JSONReadError.self) {
            _ = try JSONRecordReader(bytes: Array(Self.shop.utf8), name: "shop.json", options: Self.options(path: ["x"]))
        }
    }

    @Test func parsePathForms() {
        let expected = ["data", "customers"]
        #expect(JSONReadOptions.parsePath("data.customers") == expected)
        #expect(JSONReadOptions.parsePath("$.data.customers") == expected)
        #expect(JSONReadOptions.parsePath("/data/customers") == expected)
        #expect(JSONReadOptions.parsePath("$['data']['customers']") == expected)
        #expect(JSONReadOptions.parsePath("$[\"data\"].customers") == expected)
        #expect(JSONReadOptions.parsePath("$.data.customers[*]") == expected)
        #expect(JSONReadOptions.parsePath(" $ ") == [])
        #expect(JSONReadOptions.parsePath("") == [])
        #expect(JSONReadOptions.parsePath("/") == [])
        #expect(JSONReadOptions.parsePath("/a~1b/c~0d") == ["a/b", "c~d"])
        #expect(JSONReadOptions.parsePath("$['odd key']['it\\'s']") == ["odd key", "it's"])
        #expect(JSONReadOptions.parsePath("$['a.b'].c") == ["a.b", "c"])
    }

    // MARK: Values and flattening

    @Test func flattening() {
        let text = #"[{"a": {"b": 1, "c": {"d": 2}}, "e": 3}]"#
        #expect(
            Self.records(text).map(Self.fields) == [
                [Field("a.b", .integer(1)), Field("a.c.d", .integer(2)), Field("e", .integer(3))]
            ])
        #expect(
            Self.records(text, Self.options(flatten: false)).map(Self.fields) == [
                [Field("a", .text(#"{"b":1,"c":{"d":2}}"#)), Field("e", .integer(3))]
            ])
    }

    @Test func emptyObjectBecomesNull() {
        let rs = Self.records(#"[{"a": {}, "b": {"c": {}}, "d": 1}, {}]"#)
        #expect(rs.map(Self.fields) == [[Field("a", .null), Field("b.c", .null), Field("d", .integer(1))], []])
        let kept = Self.records(#"[{"a": {}}]"#, Self.options(flatten: false))
        #expect(kept.map(Self.fields) == [[Field("a", .text("{}"))]])
    }

    @Test func arraysAsCompactJSONText() {
        let text = #"""
            [{"tags": [ "x" , "y" ],
              "m": [1, 2.50, -0, 1E+3, 123456789012345678901, {"k": null, "z": "a\"b\u00e9\n\/"}, true, false],
              "e": [], "n": [[ ], {}]}]
            """#
        #expect(
            Self.records(text).map(Self.fields) == [
                [
                    Field("tags", .text(#"["x","y"]"#)),
                    Field("m", .text(#"[1,2.50,-0,1E+3,123456789012345678901,{"k":null,"z":"a\"bé\n/"},true,false]"#)),
                    Field("e", .text("[]")),
                    Field("n", .text("[[],{}]")),
                ]
            ])
    }

    @Test func literals() {
        let rs = Self.records(#"[{"t": true, "f": false, "n": null}]"#)
        #expect(rs.map(Self.fields) == [[Field("t", .integer(1)), Field("f", .integer(0)), Field("n", .null)]])
    }

    @Test func bigIntegersAndPreciseDecimals() throws {
        let text = """
            [{"max": 9223372036854775807, "min": -9223372036854775808,
              "over": 9223372036854775808, "under": -9223372036854775809,
              "huge": 123456789012345678901234567890, "seventeen": 12345678901234567,
              "tenth": 0.1, "pi": 3.14159265358979323846, "exact": 0.30000000000000004,
              "inexact": 0.30000000000000001, "big": 1e400, "tiny": 1e-400, "e": 1.5e3,
              "neg": -2.5E-3, "zero": 0, "negzero": -0.0, "trail": 1.50, "long": 1.0000000000000000,
              "sub": 5e-324, "large": 1.7976931348623157e308, "frac": 0.000123456789012345}]
            """
        let r = try #require(Self.records(text).first)
        #expect(r["max"] == .integer(.max))
        #expect(r["min"] == .integer(.min))
        #expect(r["over"] == .text("9223372036854775808"))
        #expect(r["under"] == .text("-9223372036854775809"))
        #expect(r["huge"] == .text("123456789012345678901234567890"))
        #expect(r["seventeen"] == .integer(12_345_678_901_234_567))
        #expect(r["tenth"] == .real(0.1))
        #expect(r["pi"] == .text("3.14159265358979323846"))
        #expect(r["exact"] == .real(0.30000000000000004))
        #expect(r["inexact"] == .text("0.30000000000000001"))
        #expect(r["big"] == .text("1e400"))
        #expect(r["tiny"] == .text("1e-400"))
        #expect(r["e"] == .real(1500))
        #expect(r["neg"] == .real(-0.0025))
        #expect(r["zero"] == .integer(0))
        guard case .real(let negativeZero) = r["negzero"] else {
            Issue.record("negzero is \(String(describing: r["negzero"]))")
            return
        }
        #expect(negativeZero == 0 && negativeZero.sign == .minus)
        #expect(r["trail"] == .real(1.5))
        #expect(r["long"] == .real(1.0))
        #expect(r["sub"] == .real(.leastNonzeroMagnitude))
        #expect(r["large"] == .real(1.7976931348623157e308))
        #expect(r["frac"] == .real(0.000123456789012345))
    }

    @Test func numberSyntaxErrors() {
        func failure(_ text: String) -> String? { Self.readAll(text).error?.description }
        #expect(failure(#"[{"a":01}]"#) == "t.json:1:7: leading zeros are not allowed in numbers")
        #expect(failure(#"[{"a":1.}]"#) == "t.json:1:9: expected a digit after the decimal point")
        #expect(failure(#"[{"a":-}]"#) == "t.json:1:8: invalid number")
        #expect(failure(#"[{"a":1e}]"#) == "t.json:1:9: expected a digit in the exponent")
        #expect(failure(#"[{"a":tru}]"#) == "t.json:1:7: invalid literal (expected true, false or null)")
        #expect(failure(#"[{"a":.5}]"#) == "t.json:1:7: unexpected '.', expected a value")
    }

    @Test func escapesAndSurrogates() {
        let text = #"[{"s": "q\"b\\s\/b\bf\fn\nr\rt\tu\u00e9\u4E2D\uD83D\uDE00", "k\u0065y": 1}]"#
        #expect(
            Self.records(text).map(Self.fields) == [
                [Field("s", .text("q\"b\\s/b\u{8}f\u{C}n\nr\rt\tué中😀")), Field("key", .integer(1))]
            ])
    }

    @Test func invalidEscapesAndSurrogates() {
        func failure(_ text: String) -> String? { Self.readAll(text).error?.description }
        #expect(failure(#"[{"s": "a\x"}]"#) == #"t.json:1:10: invalid escape '\x' in string"#)
        #expect(failure(#"[{"s": "\ud800"}]"#) == #"t.json:1:9: unpaired surrogate \uD800 in string"#)
        #expect(failure(#"[{"s": "\udc00x"}]"#) == #"t.json:1:9: unpaired surrogate \uDC00 in string"#)
        #expect(failure(#"[{"s": "\ud800\u0041"}]"#) == #"t.json:1:9: unpaired surrogate \uD800 in string"#)
        #expect(failure(#"[{"s": "\u12G4"}]"#) == #"t.json:1:9: invalid \u escape (expected 4 hex digits)"#)
        #expect(failure("[{\"s\": \"x\ty\"}]") == "t.json:1:10: unescaped control character 0x09 in string")
        #expect(failure(#"[{"s": "abc"#) == "t.json:1:12: unexpected end of file inside a string")
        #expect(failure(#"[{"s": "abc\"#) == "t.json:1:13: unexpected end of file inside a string")
    }

    @Test func invalidUTF8() {
        func failure(_ bytes: [UInt8]) -> String? {
            Self.readAll(Array(#"[{"s": "é"#.utf8) + bytes + Array(#""}]"#.utf8), Self.options()).error?.description
        }
        #expect(failure([0xFF]) == "t.json:1:10: invalid UTF-8 byte 0xFF in string")
        #expect(failure([0xC0, 0xAF]) == "t.json:1:10: invalid UTF-8 byte 0xC0 in string")
        #expect(failure([0xED, 0xA0, 0x80]) == "t.json:1:10: invalid UTF-8 sequence in string")
        #expect(failure([0xE2, 0x82]) == "t.json:1:10: invalid UTF-8 sequence in string")
        #expect(failure([0x80]) == "t.json:1:10: invalid UTF-8 byte 0x80 in string")
        #expect(failure([0xF0, 0x9F, 0x98, 0x80]) == nil)
        let line2: [UInt8] = Array("{\"a\":1}\n{\"b\":\"x".utf8) + [0xFE] + Array("\"}\n{\"c\":2}".utf8)
        let (items, error) = Self.readAll(line2, Self.options(.ndjson))
        #expect(error == nil)
        #expect(
            Self.render(items) == [
                "1: a=integer(1)", "2! column 8: invalid UTF-8 byte 0xFE in string <{\"b\":\"x\u{FFFD}\"}>",
                "3: c=integer(2)",
            ])
    }

    @Test func columnsCountScalarsNotBytes() {
        #expect(Self.readAll(#"[{"é😀": 1 x}]"#).error?.description == "t.json:1:11: expected ',' or '}' after object member")
    }

    @Test func duplicateKeysLastWinsInFirstPlace() {
        func row(_ text: String) -> [Field] { Self.records("[\(text)]").first.map(Self.fields) ?? [] }
        #expect(row(#"{"a": 1, "b": 2, "a": 3}"#) == [Field("a", .integer(3)), Field("b", .integer(2))])
        #expect(row(#"{"a": {"x": 1, "y": 2}, "b": 2, "a": 5}"#) == [Field("a", .integer(5)), Field("b", .integer(2))])
        #expect(
            row(#"{"a": 5, "b": 2, "a": {"x": 1, "y": 2}}"#) == [
                Field("a.x", .integer(1)), Field("a.y", .integer(2)), Field("b", .integer(2)),
            ])
        #expect(row(#"{"a": {"x": 1}, "a": {"y": 2}, "c": 0}"#) == [Field("a.y", .integer(2)), Field("c", .integer(0))])
        #expect(row(#"{"o": {"k": 1, "k": 2}, "o2": 1}"#) == [Field("o.k", .integer(2)), Field("o2", .integer(1))])
        #expect(row(#"{"a.b": 1, "a": {"b": 2}}"#) == [Field("a.b", .integer(2))])
        #expect(row(#"{"a": 1, "a.b": 2, "a": {"b": 3}}"#) == [Field("a.b", .integer(3))])
        #expect(
            row(#"{"a": 1, "a.b": 2, "c": 0, "a": {"b": 3, "d": 4}}"#) == [
                Field("a.d", .integer(4)), Field("a.b", .integer(3)), Field("c", .integer(0)),
            ])
        // The same key in sibling objects is not a duplicate.
        #expect(row(#"{"p": {"k": 1}, "q": {"k": 2}}"#) == [Field("p.k", .integer(1)), Field("q.k", .integer(2))])
    }

    @Test func keysChangeFromRecordToRecord() {
        var text = "["
        for i in 0..<70_000 { text += (i == 0 ? "" : ",") + "{\"k\(i)\": \(i), \"n\": {\"v\": \(i)}}" }
        text += "]"
        let rs = Self.records(text)
        #expect(rs.count == 70_000)
        #expect(Self.fields(rs[69_999]) == [Field("k69999", .integer(69_999)), Field("n.v", .integer(69_999))])
        #expect(Self.fields(rs[123]) == [Field("k123", .integer(123)), Field("n.v", .integer(123))])
    }

    // MARK: Problems and errors

    @Test func nonObjectRecordsAreProblems() {
        let (items, error) = Self.readAll(
            """
            [{"a": 1}, 42, "s",
             [1, {"b": 2}], null, true, {"a": 2}]
            """)
        #expect(error == nil)
        #expect(
            Self.render(items) == [
                "1: a=integer(1)",
                "1! record 2 is a number, expected an object <42>",
                "1! record 3 is a string, expected an object <\"s\">",
                "2! record 4 is an array, expected an object <[1,{\"b\":2}]>",
                "2! record 5 is null, expected an object <null>",
                "2! record 6 is a boolean, expected an object <true>",
                "2: a=integer(2)",
            ])
    }

    @Test func longNonObjectRawIsTruncated() {
        let big = "[" + (0..<3000).map { "\"s\($0)\"" }.joined(separator: ", ") + "]"
        let (items, error) = Self.readAll("[\(big), {\"a\": 1}]")
        #expect(error == nil)
        guard case .problem(_, let reason, let raw) = items.first else {
            Issue.record("expected a problem")
            return
        }
        #expect(reason == "record 1 is an array, expected an object")
        #expect(raw.utf8.count == 4096)
        #expect(raw.hasPrefix(#"["s0","s1","#))
        #expect(Self.render(Array(items.dropFirst())) == ["1: a=integer(1)"])
    }

    @Test func syntaxErrorHasExactLineAndColumn() throws {
        let text = """
            [
              {"ok": true},
              {"a": 1,
               "b": 2 "c": 3}
            ]
            """
        let reader = try JSONRecordReader(bytes: Array(text.utf8), name: "shop.json", options: Self.options())
        guard case .record(let first) = try reader.next() else {
            Issue.record("expected the first record")
            return
        }
        #expect(Self.fields(first) == [Field("ok", .integer(1))])
        do {
            _ = try reader.next()
            Issue.record("expected an error")
        } catch let error as JSONReadError {
            #expect(error.line == 4)
            #expect(error.column == 11)
            #expect(error.message == "expected ',' or '}' after object member")
            #expect(error.description == "shop.json:4:11: expected ',' or '}' after object member")
        }
        #expect(throws: JSONReadError.self) { _ = try reader.next() }
        #expect(reader.itemsRead == 1)
    }

    @Test func otherSyntaxErrors() {
        func failure(_ text: String) -> String? { Self.readAll(text).error?.description }
        #expect(failure(#"[{"a": 1,}]"#) == "t.json:1:10: trailing comma before '}'")
        #expect(failure(#"[{"a": 1},]"#) == "t.json:1:11: trailing comma before ']'")
        #expect(failure(#"[{"a" 1}]"#) == "t.json:1:7: expected ':' after object key")
        #expect(failure(#"[{a: 1}]"#) == "t.json:1:3: expected a string as object key, found 'a'")
        #expect(failure(#"[{"a": 1} {"a": 2}]"#) == "t.json:1:11: expected ',' or ']' after array element")
        #expect(failure(#"[{"a": [1 2]}]"#) == "t.json:1:11: expected ',' or ']' after array element")
        #expect(failure(#"[{"a": 1}] x"#) == "t.json:1:12: unexpected 'x' after the end of the document")
        #expect(failure(#"[{"a": 1}"#) == "t.json:1:10: expected ',' or ']' after array element")
    }

    @Test func restOfDocumentIsChecked() {
        let options = Self.options(path: ["data"])
        #expect(Self.readAll(#"{"data": [{"a": 1}]"#, options).error?.description == "t.json:1:20: expected ',' or '}' after object member")
        #expect(Self.readAll(#"{"data": [], "x": [}"#, options).error?.description == "t.json:1:20: unexpected '}', expected a value")
        #expect(Self.readAll(#"{"data": [], "x": 1} {}"#, options).error?.description == "t.json:1:22: unexpected '{' after the end of the document")
        let (items, error) = Self.readAll(#"{"data": [{"a": 1}], "x": {"y": [1, 2]}}"#, options)
        #expect(error == nil)
        #expect(items.count == 1)
    }

    @Test func ndjsonBadLineInTheMiddle() {
        let text = """
            {"id":1}
            {"id":2,}
            {"id":3}

            {"id":4 "x":1}
            [1,2]
            {"id":5}
            """
        let (items, error) = Self.readAll(text, Self.options(.ndjson))
        #expect(error == nil)
        #expect(
            Self.render(items) == [
                "1: id=integer(1)",
                "2! column 9: trailing comma before '}' <{\"id\":2,}>",
                "3: id=integer(3)",
                "5! column 9: expected ',' or '}' after object member <{\"id\":4 \"x\":1}>",
                "6! record 5 is an array, expected an object <[1,2]>",
                "7: id=integer(5)",
            ])
    }

    @Test func ndjsonIsStrictlyOneValuePerLine() {
        let (items, _) = Self.readAll("{\"a\":\n1}\n{\"a\":1} {\"b\":2}\n\"x\"", Self.options(.ndjson))
        #expect(
            Self.render(items) == [
                "1! column 6: unexpected end of line, expected a value <{\"a\":>",
                "2! column 2: unexpected '}' after the value <1}>",
                "3! column 9: unexpected '{' after the value <{\"a\":1} {\"b\":2}>",
                "4! record 4 is a string, expected an object <\"x\">",
            ])
    }

    @Test func ndjsonRawIsTruncatedTo4KiB() {
        let long = "{\"a\": \"" + String(repeating: "é", count: 5000) + "\" x}\n{\"b\": 1}\n"
        for chunk in [64, 1 << 20] {
            let (items, error) = Self.readAll(long, Self.options(.ndjson, chunk: chunk))
            #expect(error == nil)
            #expect(items.count == 2)
            guard case .problem(let line, let reason, let raw) = items.first else {
                Issue.record("expected a problem")
                continue
            }
            #expect(line == 1)
            #expect(reason == "column 5010: expected ',' or '}' after object member")
            #expect(raw.utf8.count == 4095)  // 4096 would split an "é"
            #expect(raw.hasPrefix("{\"a\": \"éé"))
            #expect(Self.render(Array(items.dropFirst())) == ["2: b=integer(1)"])
        }
    }

    @Test func depthLimit() {
        let nested = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        let (items, error) = Self.readAll("{\"a\":\(nested)}\n{\"b\":1}", Self.options(.ndjson))
        #expect(error == nil)
        #expect(Self.render(items).map { $0.prefix(50) } == ["1! column 517: nesting deeper than 512 levels <{\"a", "2: b=integer(1)"])
        #expect(Self.readAll("[{\"a\":\(nested)}]").error?.description == "t.json:1:517: nesting deeper than 512 levels")
        #expect(Self.readAll(String(repeating: "[", count: 100_000)).error?.description == "t.json:1:513: nesting deeper than 512 levels")
        let skipped = "{\"x\": " + String(repeating: "{\"y\":", count: 100_000) + "1" + String(repeating: "}", count: 100_000) + ", \"data\": []}"
        #expect(Self.readAll(skipped, Self.options(path: ["data"])).error?.description == "t.json:1:2562: nesting deeper than 512 levels")
        let small = Self.options(maxDepth: 3)
        #expect(Self.readAll(#"[{"a": {"b": {"c": 1}}}]"#, small).error?.description == "t.json:1:14: nesting deeper than 3 levels")
        #expect(Self.records(#"[{"a": {"b": 1}}]"#, small).count == 1)
    }

    @Test func emptyArrayAndEmptyFiles() throws {
        for text in ["[]", "  [ ]  \n", "{\"data\": []}"] {
            let (items, error) = Self.readAll(text, Self.options(path: text.hasPrefix("{") ? ["data"] : []))
            #expect(items.isEmpty)
            #expect(error == nil)
        }
        for text in ["", "\n\n  \n", "\u{FEFF}"] {
            let (items, error) = Self.readAll(text, Self.options(.ndjson))
            #expect(items.isEmpty && error == nil)
            #expect(Self.readAll(text, Self.options(), name: "empty.json").error?.description == "empty.json: empty file")
        }
        let reader = try JSONRecordReader(bytes: [], name: "e.ndjson", options: Self.options(.ndjson))
        #expect(try reader.next() == nil)
        #expect(try reader.next() == nil)
        #expect(reader.itemsRead == 0)
    }

    @Test func itemsReadCountsRecordsAndProblems() throws {
        let reader = try JSONRecordReader(
            bytes: Array("{\"a\":1}\n\nnope\n[]\n{\"a\":2}\n".utf8), name: "x.ndjson", options: Self.options(.ndjson))
        #expect(reader.itemsRead == 0)
        var kinds: [String] = []
        while let item = try reader.next() {
            if case .record = item { kinds.append("r") } else { kinds.append("p") }
            #expect(reader.itemsRead == kinds.count)
        }
        #expect(kinds == ["r", "p", "p", "r"])
        #expect(reader.itemsRead == 4)
        #expect(try reader.next() == nil)
        #expect(reader.itemsRead == 4)
    }

    @Test func bomAndCRLF() {
        let (items, error) = Self.readAll("\u{FEFF}{\"a\":1}\r\n\r\n{\"a\":2}\r\n{\"a\":}\r\n", Self.options(.ndjson))
        #expect(error == nil)
        #expect(
            Self.render(items) == [
                "1: a=integer(1)", "3: a=integer(2)", "4! column 6: unexpected '}', expected a value <{\"a\":}>",
            ])
        #expect(Self.readAll("\u{FEFF}[\r\n{\"a\":1},\r\n{\"a\" 2}]").error?.description == "t.json:3:6: expected ':' after object key")
        #expect(Self.readAll("\u{FEFF}[x]").error?.description == "t.json:1:2: unexpected 'x', expected a value")
        #expect(Self.records("\u{FEFF}[\r\n{\"a\":1}\r\n]\r\n").map(\.line) == [2])
    }

    // MARK: Chunk boundaries

    static let richArray = #"""
        {"skip": {"deep": [1, 2.5e-3, "x\u00e9\"", {"k": [true, false, null]}], "s": "ünïcødé 😀"},
         "data": {"items": [
          {"id": 1, "name": "Zoë \uD83D\uDE00", "n": -12.75e+2, "big": 123456789012345678901, "ok": true, "no": false,
           "nil": null, "addr": {"city": "Köln", "geo": {"lat": 50.9375, "lon": 6.9603}}, "tags": ["a", "b\n", 3],
           "empty": {}, "pi": 3.14159265358979323846, "max": -9223372036854775808},
          42,
          {"id": 2, "dup": 1, "dup": 2, "esc": "tab\tquote\"slash\/", "e": [], "k\u00e9y": "v"}
         ], "after": "z"}}
        """#

    static let richNDJSON =
        "\u{FEFF}{\"a\": \"ü\", \"b\": [1, {\"c\": \"\\u00e9\"}]}\r\n{\"a\": 1,}\r\n\r\n   \t\n[1]\n"
        + "{\"x\": \"\\uD83D\\uDE00\", \"y\": 1.5e300, \"z\": 0.1, \"long\": \"\(String(repeating: "ab€", count: 40))\"}\n"
        + "{\"bad\": \"\\q\"}\n{\"last\": true}"

    @Test(arguments: [1, 2, 3, 5, 64])
    func chunkBoundaries(chunk: Int) {
        let arrayOptions = Self.options(path: ["data", "items"])
        let expected = Self.readAll(Self.richArray, arrayOptions)
        #expect(expected.error == nil)
        #expect(expected.items.count == 3)
        var small = arrayOptions
        small.chunkSize = chunk
        let got = Self.readAll(Self.richArray, small)
        #expect(got.error == nil)
        #expect(Self.render(got.items) == Self.render(expected.items))

        let ndjson = Self.readAll(Self.richNDJSON, Self.options(.ndjson))
        #expect(ndjson.items.count == 6)
        let ndjsonSmall = Self.readAll(Self.richNDJSON, Self.options(.ndjson, chunk: chunk))
        #expect(ndjsonSmall.error == nil)
        #expect(Self.render(ndjsonSmall.items) == Self.render(ndjson.items))

        let flat = Self.readAll(Self.richArray, Self.options(path: ["data", "items"], flatten: false, chunk: chunk))
        #expect(Self.render(flat.items) == Self.render(Self.readAll(Self.richArray, Self.options(path: ["data", "items"], flatten: false)).items))

        // Errors land on the same line and column whatever the chunking.
        let broken = Self.richArray.replacingOccurrences(of: #""e": []"#, with: #""e": [}"#)
        let error = Self.readAll(broken, small).error
        #expect(error?.description == "t.json:7:69: unexpected '}', expected a value")
        #expect(Self.readAll(broken, arrayOptions).error?.description == error?.description)
    }

    @Test func chunkBoundaryExpectationsAreRight() throws {
        let items = Self.readAll(Self.richArray, Self.options(path: ["data", "items"])).items
        guard case .record(let first) = items[0], case .problem(let line, let reason, let raw) = items[1],
            case .record(let last) = items[2]
        else {
            Issue.record("unexpected items \(Self.render(items))")
            return
        }
        #expect(first.line == 3)
        #expect(first["name"] == .text("Zoë 😀"))
        #expect(first["n"] == .real(-1275))
        #expect(first["big"] == .text("123456789012345678901"))
        #expect(first["addr.geo.lon"] == .real(6.9603))
        #expect(first["tags"] == .text(#"["a","b\n",3]"#))
        #expect(first["empty"] == .null)
        #expect(first["max"] == .integer(.min))
        #expect((line, reason, raw) == (6, "record 2 is a number, expected an object", "42"))
        #expect(
            Self.fields(last) == [
                Field("id", .integer(2)), Field("dup", .integer(2)), Field("esc", .text("tab\tquote\"slash/")),
                Field("e", .text("[]")), Field("kéy", .text("v")),
            ])
        let nd = Self.render(Self.readAll(Self.richNDJSON, Self.options(.ndjson)).items)
        #expect(nd[0] == #"1: a=text("ü") | b=text("[1,{\"c\":\"é\"}]")"#)
        #expect(nd[1] == #"2! column 9: trailing comma before '}' <{"a": 1,}>"#)
        #expect(nd[2] == "5! record 3 is an array, expected an object <[1]>")
        #expect(nd[3].hasPrefix(#"6: x=text("😀") | y=real(1.5e+300) | z=real(0.1) | long=text("ab€ab€"#))
        #expect(nd[4] == #"7! column 10: invalid escape '\q' in string <{"bad": "\q"}>"#)
        #expect(nd[5] == "8: last=integer(1)")
    }

    @Test func longStringsSpanManyChunks() {
        let long = String(repeating: "x\\\"é😀\\u00e9", count: 2000)
        let expected = String(repeating: "x\"é😀é", count: 2000)
        for chunk in [1, 7, 64, 1 << 20] {
            let rs = Self.records("[{\"s\": \"\(long)\", \"t\": [\"\(long)\"]}]", Self.options(chunk: chunk))
            #expect(rs.first?["s"] == .text(expected))
            #expect(rs.first?["t"] == .text("[\"" + expected.replacingOccurrences(of: "\"", with: "\\\"") + "\"]"))
        }
    }

    // MARK: Files

    @Test func readsFilesAndNamesThePath() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aurum-json-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("shop.json").path
        var text = "{\"data\": {\"customers\": [\n"
        for i in 0..<1000 { text += (i == 0 ? "" : ",\n") + "{\"id\": \(i), \"name\": \"n\(i)\"}" }
        text += "\n]}}"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        for chunk in [3, 1 << 20] {
            var options = Self.options(path: JSONReadOptions.parsePath("$.data.customers"))
            options.chunkSize = chunk
            let reader = try JSONRecordReader(path: path, options: options)
            var count = 0
            while let item = try reader.next() {
                guard case .record(let r) = item else {
                    Issue.record("unexpected \(item)")
                    break
                }
                #expect(r["id"] == .integer(Int64(count)))
                #expect(r.line == count + 2)
                count += 1
            }
            #expect(count == 1000)
            #expect(reader.itemsRead == 1000)
        }
        do {
            _ = try JSONRecordReader(path: dir.appendingPathComponent("missing.json").path, options: JSONReadOptions())
            Issue.record("expected an error")
        } catch let error as JSONReadError {
            #expect(error.description.hasPrefix(dir.appendingPathComponent("missing.json").path + ": cannot open file: "))
        }
        #expect(throws: JSONReadError.self) {
            _ = try JSONRecordReader(path: path, options: Self.options(path: ["data", "orders"]))
        }
        do {
            _ = try JSONRecordReader(path: dir.path, options: JSONReadOptions())
            Issue.record("expected an error")
        } catch let error as JSONReadError {
            #expect(error.description == "\(dir.path): read error: Is a directory")
        }
    }
}
