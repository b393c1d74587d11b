import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@testable import Aurum

/// Everything a reader produced, gathered over all batches.
private struct CSVParsed: Equatable {
    var header: [String] = []
    var rows: [[String]] = []
    var lines: [Int] = []
    var hashes: [UInt64] = []
    var quoted: [[Bool]] = []
    var problems: [CSVProblem] = []
    var rowsRead = 0
    var batches = 0
}

private func csvParse(
    _ bytes: [UInt8], _ options: CSVOptions = .init(), chunkSize: Int = 1 << 20, maxRows: Int = 8192,
    maxRecordBytes: Int = 64 << 20
) throws -> CSVParsed {
    let reader = try CSVReader(bytes: bytes, options: options, chunkSize: chunkSize, maxRecordBytes: maxRecordBytes)
    var out = CSVParsed()
    out.header = reader.header
    while let batch = try reader.nextBatch(maxRows: maxRows) {
        out.batches += 1
        #expect(batch.fieldEnds.count == batch.rowCount * batch.width)
        #expect(batch.lines.count == batch.rowCount)
        #expect(batch.hashes.count == batch.rowCount)
        #expect(batch.rowCount + batch.problems.count <= maxRows)
        for r in 0..<batch.rowCount {
            out.rows.append(batch.row(r))
            out.quoted.append((0..<batch.width).map { batch.isQuoted(r, $0) })
        }
        out.lines += batch.lines
        out.hashes += batch.hashes
        out.problems += batch.problems
    }
    #expect(try reader.nextBatch() == nil)
    out.rowsRead = reader.rowsRead
    return out
}

private func csvParse(
    _ text: String, _ options: CSVOptions = .init(), chunkSize: Int = 1 << 20, maxRows: Int = 8192
) throws -> CSVParsed {
    try csvParse(Array(text.utf8), options, chunkSize: chunkSize, maxRows: maxRows)
}

private func csvOptions(delimiter: Character = ",", header: Bool = true, encoding: CSVEncoding = .utf8, columns: [String]? = nil)
    -> CSVOptions
{
    var o = CSVOptions()
    o.delimiter = delimiter.asciiValue!
    o.header = header
    o.encoding = encoding
    o.columns = columns
    return o
}

@Suite struct CSVReaderTests {
    @Test func plainRowsAndHeader() throws {
        let p = try csvParse("id,name,city\n1,Ann,Paris\n2,Bob,\n")
        #expect(p.header == ["id", "name", "city"])
        #expect(p.rows == [["1", "Ann", "Paris"], ["2", "Bob", ""]])
        #expect(p.lines == [2, 3])
        #expect(p.problems.isEmpty)
        #expect(p.rowsRead == 2)
    }

    @Test func quotingAndDoubledQuotes() throws {
        let p = try csvParse("a,b,c\n1,\"x, y\",\"he said \"\"hi\"\"\"\n\"\",,\"\"\"\"\n")
        #expect(p.rows == [["1", "x, y", "he said \"hi\""], ["", "", "\""]])
        #expect(p.quoted == [[false, true, true], [true, false, true]])
        #expect(p.problems.isEmpty)
    }

    @Test func embeddedNewlinesKeepPhysicalLines() throws {
        let p = try csvParse("h1,h2\n\"line1\nline2\",x\n\"a\r\nb\",y\n\"c\rd\",z\nlast,w")
        #expect(p.rows == [["line1\nline2", "x"], ["a\r\nb", "y"], ["c\rd", "z"], ["last", "w"]])
        #expect(p.lines == [2, 4, 6, 8])
    }

    @Test func crlfAndLoneCR() throws {
        let crlf = try csvParse("a,b\r\n1,2\r\n3,4\r\n")
        #expect(crlf.rows == [["1", "2"], ["3", "4"]])
        #expect(crlf.lines == [2, 3])
        let cr = try csvParse("a,b\r1,2\r3,4")
        #expect(cr.rows == [["1", "2"], ["3", "4"]])
        #expect(cr.lines == [2, 3])
        let mixed = try csvParse("a,b\n1,2\r\n3,4\r5,6\n")
        #expect(mixed.rows == [["1", "2"], ["3", "4"], ["5", "6"]])
        #expect(mixed.lines == [2, 3, 4])
    }

    @Test func byteOrderMarkIsSkipped() throws {
        let p = try csvParse("\u{FEFF}id,name\n1,x\n")
        #expect(p.header == ["id", "name"])
        #expect(p.rows == [["1", "x"]])
        let quoted = try csvParse("\u{FEFF}\"id\",name\n1,x\n")
        #expect(quoted.header == ["id", "name"])
    }

    @Test func tabSemicolonAndPipe() throws {
        let tsv = try csvParse("a\tb\n1,5\t\"q\tx\"\n", .tsv)
        #expect(tsv.header == ["a", "b"])
        #expect(tsv.rows == [["1,5", "q\tx"]])
        let semi = try csvParse("a;b\n1,5;2\n", csvOptions(delimiter: ";"))
        #expect(semi.rows == [["1,5", "2"]])
        let pipe = try csvParse("a|b\n\"x|y\"|2\n", csvOptions(delimiter: "|"))
        #expect(pipe.rows == [["x|y", "2"]])
    }

    @Test func headerDeduplication() throws {
        let p = try csvParse("email,Email,,name,email, \n1,2,3,4,5,6\n")
        #expect(p.header == ["email", "Email_2", "c3", "name", "email_3", "c6"])
        #expect(CSVReader.dedupe(["c2", "", "x", "x", "x_2"]) == ["c2", "c2_2", "x", "x_2", "x_2_2"])
    }

    @Test func noHeaderMode() throws {
        let p = try csvParse("\n1,2,3\n4,5,6\n", csvOptions(header: false))
        #expect(p.header == ["c1", "c2", "c3"])
        #expect(p.rows == [["1", "2", "3"], ["4", "5", "6"]])
        #expect(p.lines == [2, 3])
        #expect(p.rowsRead == 2)
    }

    @Test func explicitColumns() throws {
        let noHeader = try csvParse("1,2\n", csvOptions(header: false, columns: ["x", "y"]))
        #expect(noHeader.header == ["x", "y"])
        #expect(noHeader.rows == [["1", "2"]])
        let override = try csvParse("a,b\n1,2\n", csvOptions(columns: ["x", "x"]))
        #expect(override.header == ["x", "x_2"])
        #expect(override.rows == [["1", "2"]])
        #expect(override.lines == [2])
    }

    @Test func noData() throws {
        for text in ["", "\n\n\r\n", "\u{FEFF}"] {
            let reader = try CSVReader(bytes: Array(text.utf8))
            #expect(reader.header == [])
            #expect(try reader.nextBatch() == nil)
            #expect(reader.rowsRead == 0)
        }
        let headerOnly = try csvParse("a,b\n")
        #expect(headerOnly.header == ["a", "b"])
        #expect(headerOnly.batches == 0)
        let noHeader = try CSVReader(bytes: [], options: csvOptions(header: false))
        #expect(noHeader.header == [])
        #expect(try noHeader.nextBatch() == nil)
    }

    @Test func raggedRowsBecomeProblems() throws {
        let text = "a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n\"x\ny\",1\n13,14,15\n"
        let p = try csvParse(text)
        #expect(p.rows == [["1", "2", "3"], ["6", "7", "8"], ["13", "14", "15"]])
        #expect(p.lines == [2, 4, 8])
        #expect(p.problems == [
            CSVProblem(line: 3, reason: "expected 3 fields, found 2", raw: "4,5"),
            CSVProblem(line: 5, reason: "expected 3 fields, found 4", raw: "9,10,11,12"),
            CSVProblem(line: 6, reason: "expected 3 fields, found 2", raw: "\"x\ny\",1"),
        ])
        #expect(p.rowsRead == 6)
    }

    @Test func malformedQuoteRecovers() throws {
        let p = try csvParse("a,b,c\n1,\"abc\"x,3\n4,5,6\n\"He said \"hi\" there\",b,c\n\"q\"z,\"multi\nline\",c\nnext,1,2\n")
        #expect(p.rows == [["4", "5", "6"], ["next", "1", "2"]])
        #expect(p.lines == [3, 7])
        #expect(p.problems == [
            CSVProblem(line: 2, reason: "unexpected character after closing quote in field 2", raw: "1,\"abc\"x,3"),
            CSVProblem(line: 4, reason: "unexpected character after closing quote in field 1",
                       raw: "\"He said \"hi\" there\",b,c"),
            CSVProblem(line: 5, reason: "unexpected character after closing quote in field 1",
                       raw: "\"q\"z,\"multi\nline\",c"),
        ])
        #expect(p.rowsRead == 5)
    }

    @Test func quoteInsideUnquotedFieldIsLiteral() throws {
        let p = try csvParse("a,b\nab\"c,5\"\"\n")
        #expect(p.rows == [["ab\"c", "5\"\""]])
        #expect(p.quoted == [[false, false]])
    }

    @Test func unterminatedQuote() throws {
        let p = try csvParse("a,b\n1,2\n3,\"never closed\n4,5\n")
        #expect(p.rows == [["1", "2"]])
        #expect(p.problems == [
            CSVProblem(line: 3, reason: "unterminated quoted field starting at line 3", raw: "3,\"never closed\n4,5\n")
        ])
        #expect(p.rowsRead == 2)
        let second = try csvParse("a,b\n1,\"x\ny\"\"\n")
        #expect(second.problems.map(\.reason) == ["unterminated quoted field starting at line 2"])
    }

    @Test func invalidUTF8() throws {
        var bytes = Array("a,b\n1,".utf8) + [0xC3, 0x28] + Array("\n2,é\n3,".utf8)
        bytes += [0xED, 0xA0, 0x80] + Array("\n\"".utf8) + [0xFF] + Array("\",4\n".utf8)
        let p = try csvParse(bytes)
        #expect(p.rows == [["2", "é"]])
        #expect(p.lines == [3])
        #expect(p.problems == [
            CSVProblem(line: 2, reason: "invalid UTF-8 in field 2", raw: "1,\u{FFFD}("),
            CSVProblem(line: 4, reason: "invalid UTF-8 in field 2", raw: "3,\u{FFFD}\u{FFFD}\u{FFFD}"),
            CSVProblem(line: 5, reason: "invalid UTF-8 in field 1", raw: "\"\u{FFFD}\",4"),
        ])
        #expect(p.rowsRead == 4)
    }

    @Test func utf8Validator() {
        func valid(_ b: [UInt8]) -> Bool { b.withUnsafeBufferPointer { CSVReader.isValidUTF8($0.baseAddress!, count: b.count) } }
        #expect(valid(Array("plain ascii text, long enough for words".utf8)))
        #expect(valid(Array("é ü ñ 中文 😀 €".utf8)))
        #expect(!valid([0xC0, 0x80]))  // overlong
        #expect(!valid([0xE0, 0x80, 0x80]))  // overlong
        #expect(!valid([0xED, 0xA0, 0x80]))  // surrogate
        #expect(!valid([0xF4, 0x90, 0x80, 0x80]))  // > U+10FFFF
        #expect(!valid([0xE2, 0x82]))  // truncated
        #expect(!valid(Array("abcdefgh".utf8) + [0x80]))
    }

    @Test func latin1IsTranscoded() throws {
        let bytes = Array("name,city\nJos".utf8) + [0xE9] + Array(",\"Z".utf8) + [0xFC] + Array("rich, ".utf8) + [0xFF]
            + Array("\"\n".utf8)
        let p = try csvParse(bytes, csvOptions(encoding: .latin1))
        #expect(p.rows == [["José", "Zürich, ÿ"]])
        #expect(p.hashes == [CSVHash.hash(fields: ["José", "Zürich, ÿ"])])
        let bad = Array("a\n\"x".utf8) + [0xE9] + Array("\"y\n".utf8)
        let q = try csvParse(bad, csvOptions(encoding: .latin1))
        #expect(q.problems == [CSVProblem(line: 2, reason: "unexpected character after closing quote in field 1", raw: "\"xé\"y")])
    }

    @Test func blankLinesAreSkipped() throws {
        let p = try csvParse("\n\na,b\n\n1,2\n\r\n\r\n3,4\n\n")
        #expect(p.header == ["a", "b"])
        #expect(p.rows == [["1", "2"], ["3", "4"]])
        #expect(p.lines == [5, 8])
        #expect(p.rowsRead == 2)
        let oneColumn = try csvParse("x\n\n\"\"\n")
        #expect(oneColumn.rows == [[""]])
        #expect(oneColumn.lines == [3])
    }

    @Test func trailingDelimiterAndEndOfInput() throws {
        let p = try csvParse("a,b,c\n1,,\n\"2\",\"x\",\"\"")
        #expect(p.rows == [["1", "", ""], ["2", "x", ""]])
        #expect(p.quoted == [[false, false, false], [true, true, true]])
    }

    @Test func batchesAndRowsReadAccounting() throws {
        var text = "a,b\n"
        for i in 0..<50 { text += i % 7 == 3 ? "bad\n" : "\(i),x\n" }
        let whole = try csvParse(text)
        for maxRows in [1, 2, 5, 64] {
            let p = try csvParse(text, maxRows: maxRows)
            #expect(p.rows == whole.rows)
            #expect(p.problems == whole.problems)
            #expect(p.lines == whole.lines)
            #expect(p.rowsRead == p.rows.count + p.problems.count)
            #expect(p.rowsRead == 50)
            #expect(p.batches == (50 + maxRows - 1) / maxRows)
        }
        #expect(whole.problems.count == 7)
    }

    @Test func fieldAccessors() throws {
        let reader = try CSVReader(bytes: Array("a,b\nxyz,\"é\"\n".utf8))
        let batch = try #require(try reader.nextBatch())
        #expect(batch.field(0, 0) == "xyz")
        #expect(batch.field(0, 1) == "é")
        #expect(batch.withField(0, 0) { Array($0) } == Array("xyz".utf8))
        #expect(batch.withField(0, 1) { $0.count } == 2)
        #expect(batch.bytes == Array("xyzé".utf8))
        #expect(batch.fieldEnds == [3, 5])
    }

    // MARK: Chunk boundaries

    private static let corpus: [UInt8] = {
        var b = Array("\u{FEFF}id,\"na\"\"me\",note\r\n".utf8)
        b += Array("1,Ann,\"x, y\"\r\n".utf8)
        b += Array("2,\"Bo\"\"b\",\"multi\r\nline\nthree\"\n".utf8)
        b += Array("\n\r\n".utf8)
        b += Array("3,Zoë,\"\"\r".utf8)
        b += Array("4,5\n".utf8)
        b += Array("5,\"abc\"x,z\n".utf8)
        b += Array("6,ab\"c,\"\"\"\"\r\n".utf8)
        b += Array("7,".utf8) + [0xC3] + Array(",z\n".utf8)
        b += Array("8,\"é\r\",\"\"\"q\"\"\"\r\n\r".utf8)
        b += Array("9,a,b,c\n".utf8)
        b += Array("10,last,\"open\nstill open".utf8)
        return b
    }()

    private static let corpusExpected = CSVParsed(
        header: ["id", "na\"me", "note"],
        rows: [["1", "Ann", "x, y"], ["2", "Bo\"b", "multi\r\nline\nthree"], ["3", "Zoë", ""],
               ["6", "ab\"c", "\""], ["8", "é\r", "\"q\""]],
        lines: [2, 3, 8, 11, 13],
        hashes: [], quoted: [[false, false, true], [false, true, true], [false, false, true],
                             [false, false, true], [false, true, true]],
        problems: [
            CSVProblem(line: 9, reason: "expected 3 fields, found 2", raw: "4,5"),
            CSVProblem(line: 10, reason: "unexpected character after closing quote in field 2", raw: "5,\"abc\"x,z"),
            CSVProblem(line: 12, reason: "invalid UTF-8 in field 2", raw: "7,\u{FFFD},z"),
            CSVProblem(line: 16, reason: "expected 3 fields, found 4", raw: "9,a,b,c"),
            CSVProblem(line: 17, reason: "unterminated quoted field starting at line 17",
                       raw: "10,last,\"open\nstill open"),
        ],
        rowsRead: 10, batches: 1)

    @Test(arguments: [1, 2, 3, 7, 64, 1 << 20])
    func recordsSplitAcrossChunks(chunkSize: Int) throws {
        var p = try csvParse(Self.corpus, chunkSize: chunkSize)
        #expect(p.hashes == Self.corpusExpected.rows.map { CSVHash.hash(fields: $0) })
        p.hashes = []
        #expect(p == Self.corpusExpected)
    }

    @Test(arguments: [1, 3, 64])
    func chunkSplitsWithSmallBatches(chunkSize: Int) throws {
        var text = "k,v,w\n"
        for i in 0..<200 {
            switch i % 5 {
            case 0: text += "\(i),\"q\"\"\r\nx\",y\r\n"
            case 1: text += "\(i),plain,\"\"\r"
            case 2: text += "\n\(i),é,ü\n"
            case 3: text += "\(i),ragged\n"
            default: text += "\(i),\"a,b\",\"\"\"\"\n"
            }
        }
        let whole = try csvParse(text)
        let split = try csvParse(text, chunkSize: chunkSize, maxRows: 7)
        #expect(split.rows == whole.rows)
        #expect(split.lines == whole.lines)
        #expect(split.problems == whole.problems)
        #expect(split.hashes == whole.hashes)
        #expect(whole.rows.count == 160)
        #expect(whole.problems.count == 40)
        #expect(whole.rowsRead == 200)
    }

    @Test func overlongRecordIsSkipped() throws {
        let text = "a,b\n1,2\n3,\"" + String(repeating: "x", count: 100) + "\n4,5\n6,7\n"
        let p = try csvParse(Array(text.utf8), chunkSize: 8, maxRecordBytes: 64)
        #expect(p.rows == [["1", "2"], ["4", "5"], ["6", "7"]])
        #expect(p.lines == [2, 4, 5])
        #expect(p.problems.count == 1)
        #expect(p.problems.first?.line == 3)
        #expect(p.problems.first?.reason == "record exceeds 64 bytes; skipped to the next line break")
        #expect(p.rowsRead == 4)
    }

    // MARK: Hash

    @Test func hashIsStableAndSeparatorSensitive() throws {
        // Fixed values: these are stored by later stages, so they must never change.
        #expect(CSVHash.hash(fields: ["ab", "c"]) == 0xfd93affec8e9fed3)
        #expect(CSVHash.hash(fields: ["1", "José", "jose@example.com", ""]) == 0xead3cf6c3a5820f7)
        #expect(CSVHash.hash(fields: []) == 0x2c45fcca5b24b2a)
        #expect(CSVHash.hash(fields: ["ab", "c"]) != CSVHash.hash(fields: ["a", "bc"]))
        #expect(CSVHash.hash(fields: ["ab", ""]) != CSVHash.hash(fields: ["ab"]))
        #expect(CSVHash.hash(fields: ["", ""]) != CSVHash.hash(fields: [""]))
        #expect(CSVHash.hash(fields: ["a\u{1F}b"]) == CSVHash.hash(fields: ["a", "b"]))  // by definition
        let p = try csvParse("x,y\nab,c\na,bc\n\"ab\",\"c\"\n")
        #expect(p.hashes[0] == CSVHash.hash(fields: ["ab", "c"]))
        #expect(p.hashes[1] == CSVHash.hash(fields: ["a", "bc"]))
        #expect(p.hashes[2] == p.hashes[0])
        let tsv = try csvParse("x\ty\nab\tc\n", .tsv)
        #expect(tsv.hashes == [p.hashes[0]])
    }

    @Test func paddedHashMatchesPlainHash() {
        var bytes = [UInt8](repeating: 0xAA, count: 64)
        for n in 0...40 {
            for k in 0..<n { bytes[k] = UInt8(truncatingIfNeeded: k &* 37 &+ n) }
            let plain = bytes.withUnsafeBytes { CSVHash.hash(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            let padded = bytes.withUnsafeBufferPointer { CSVHash.hashPadded($0.baseAddress!, count: n) }
            #expect(plain == padded, "length \(n)")
        }
    }

    @Test func hashSpreads() {
        var seen = Set<UInt64>()
        for i in 0..<100_000 { seen.insert(CSVHash.hash(fields: ["\(i)", "x"])) }
        #expect(seen.count == 100_000)
    }

    // MARK: Files

    @Test func readsFromFileInChunks() throws {
        let dir = "/tmp/aurum-csv-test-\(getpid())"
        mkdir(dir, 0o755)
        defer { rmdir(dir) }
        let path = dir + "/crm.csv"
        let f = try #require(fopen(path, "wb"))
        _ = Self.corpus.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
        defer { unlink(path) }
        for chunk in [3, 1 << 20] {
            let reader = try CSVReader(path: path, options: .init(), chunkSize: chunk)
            var rows: [[String]] = []
            var problems: [CSVProblem] = []
            while let b = try reader.nextBatch(maxRows: 2) {
                rows += (0..<b.rowCount).map { b.row($0) }
                problems += b.problems
            }
            #expect(reader.header == Self.corpusExpected.header)
            #expect(rows == Self.corpusExpected.rows)
            #expect(problems == Self.corpusExpected.problems)
            #expect(reader.rowsRead == 10)
        }
    }

    @Test func fileErrorsNameThePath() throws {
        #expect(throws: (any Error).self) { try CSVReader(path: "/nonexistent-dir/crm.csv") }
        do {
            _ = try CSVReader(path: "/nonexistent-dir/crm.csv")
        } catch let e as CSVError {
            #expect(e.description == "/nonexistent-dir/crm.csv: cannot open: No such file or directory")
            #expect(e.path == "/nonexistent-dir/crm.csv")
        }
        do {
            _ = try CSVReader(path: "/tmp")
            Issue.record("opening a directory should fail")
        } catch let e as CSVError {
            #expect(e.description == "/tmp: cannot open: Is a directory")
        }
    }

    @Test func invalidOptionsAreRejected() {
        var o = CSVOptions()
        o.delimiter = o.quote
        #expect(throws: CSVError.self) { try CSVReader(bytes: [], options: o) }
    }
}

// MARK: Differential test against a plain byte-at-a-time model of the same rules

/// A deliberately simple parser over the whole input, written from the rules, not the fast code.
private func csvReference(_ b: [UInt8], _ o: CSVOptions) -> CSVParsed {
    let lf: UInt8 = 10, cr: UInt8 = 13
    let n = b.count
    var i = 0, line = 1
    if n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF { i = 3 }
    func text(_ bytes: ArraySlice<UInt8>) -> String {
        o.encoding == .latin1 ? String(bytes.map { Character(Unicode.Scalar($0)) }) : String(decoding: bytes, as: UTF8.self)
    }
    var records: [(line: Int, fields: [[UInt8]], quoted: [Bool], status: String?, raw: String)] = []
    while true {
        while i < n && (b[i] == lf || b[i] == cr) {
            i += (b[i] == cr && i + 1 < n && b[i + 1] == lf) ? 2 : 1
            line += 1
        }
        if i >= n { break }
        let start = i, startLine = line
        var fields: [[UInt8]] = [], quoted: [Bool] = [], cur: [UInt8] = [], status: String? = nil
        var recEnd = n
        fieldLoop: while true {
            var unquotedTail = true
            var isQuoted = false
            if i < n && b[i] == o.quote {
                isQuoted = true
                let qLine = line
                i += 1
                var closed = false
                while i < n {
                    let c = b[i]
                    if c == o.quote {
                        if i + 1 < n && b[i + 1] == o.quote { cur.append(c); i += 2; continue }
                        i += 1
                        closed = true
                        break
                    }
                    if c == lf && b[i - 1] != cr { line += 1 }
                    if c == cr { line += 1 }
                    cur.append(c)
                    i += 1
                }
                if !closed {
                    status = status ?? "unterminated quoted field starting at line \(qLine)"
                    fields.append(cur)
                    quoted.append(true)
                    recEnd = n
                    break fieldLoop
                }
                if i >= n || b[i] == o.delimiter || b[i] == lf || b[i] == cr {
                    unquotedTail = false
                } else {
                    status = status ?? "unexpected character after closing quote in field \(fields.count + 1)"
                }
            }
            if unquotedTail {
                while i < n && b[i] != o.delimiter && b[i] != lf && b[i] != cr { cur.append(b[i]); i += 1 }
            }
            fields.append(cur)
            quoted.append(isQuoted)
            cur = []
            if i < n && b[i] == o.delimiter { i += 1; continue }
            recEnd = i
            if i < n {
                i += (b[i] == cr && i + 1 < n && b[i + 1] == lf) ? 2 : 1
                line += 1
            }
            break
        }
        if o.encoding == .latin1 {
            fields = fields.map { f in Array(String(f.map { Character(Unicode.Scalar($0)) }).utf8) }
        }
        records.append((startLine, fields, quoted, status, text(b[start..<min(recEnd, start + 4096)])))
    }
    var out = CSVParsed()
    var names: [String] = []
    var data = records[...]
    if o.header {
        if let h = data.first { names = h.fields.map { String(decoding: $0, as: UTF8.self) }; data = data.dropFirst() }
    } else if let first = data.first {
        names = (1...first.fields.count).map { "c\($0)" }
    }
    out.header = CSVReader.dedupe(o.columns ?? names)
    let width = out.header.count
    guard width > 0 else { return out }
    for r in data {
        out.rowsRead += 1
        var reason = r.status
        if reason == nil && r.fields.count != width { reason = "expected \(width) fields, found \(r.fields.count)" }
        if reason == nil && o.encoding == .utf8 {
            if let k = r.fields.firstIndex(where: { String(validating: $0, as: UTF8.self) == nil }) {
                reason = "invalid UTF-8 in field \(k + 1)"
            }
        }
        if let reason {
            out.problems.append(CSVProblem(line: r.line, reason: reason, raw: r.raw))
        } else {
            out.rows.append(r.fields.map { String(decoding: $0, as: UTF8.self) })
            out.quoted.append(r.quoted)
            out.lines.append(r.line)
            out.hashes.append(CSVHash.hash(fields: out.rows.last!))
        }
    }
    return out
}

extension CSVReaderTests {
    @Test(arguments: [CSVEncoding.utf8, .latin1])
    func matchesReferenceOnRandomInput(encoding: CSVEncoding) throws {
        // Pieces chosen to hit every branch: quotes, doubled quotes, all line breaks, blank lines,
        // multi-byte and invalid UTF-8, long unquoted runs (word-at-a-time paths).
        let pieces: [[UInt8]] = [
            Array("a".utf8), Array("bc".utf8), Array(",".utf8), Array(",".utf8), Array("\"".utf8),
            Array("\"\"".utf8), Array("\n".utf8), Array("\r\n".utf8), Array("\r".utf8), Array("é".utf8),
            [0xFF], [0xC3], Array("0123456789abcdefghij".utf8), Array("x,y".utf8), Array("\t".utf8),
            Array("\"q,\nq\"".utf8), Array("ü€".utf8), [0xEF, 0xBB, 0xBF],
        ]
        var rng: UInt64 = 0x1234_5678_9ABC_DEF1
        func next(_ k: Int) -> Int {
            rng ^= rng << 13
            rng ^= rng >> 7
            rng ^= rng << 17
            return Int(rng % UInt64(k))
        }
        var o = CSVOptions()
        o.encoding = encoding
        var totalRows = 0, totalProblems = 0
        for iteration in 0..<400 {
            var input: [UInt8] = []
            if iteration % 10 == 0 { input += [0xEF, 0xBB, 0xBF] }
            for _ in 0..<next(120) { input += pieces[next(pieces.count)] }
            o.header = iteration % 3 != 0
            let expected = csvReference(input, o)
            totalRows += expected.rows.count
            totalProblems += expected.problems.count
            for chunk in [1, 5, 1 << 20] {
                var got = try csvParse(input, o, chunkSize: chunk, maxRows: 1 + next(6))
                got.batches = 0
                #expect(got == expected, "iteration \(iteration), chunk \(chunk): \(input)")
                if got != expected { return }
            }
        }
        // The inputs must exercise both outcomes a fair number of times.
        #expect(totalRows > 300)
        #expect(totalProblems > 300)
    }
}
