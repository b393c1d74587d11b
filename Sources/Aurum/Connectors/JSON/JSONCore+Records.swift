import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension JSONCore {
    // MARK: Layouts

    /// Skips a BOM; in the array layout also walks to the records array.
    mutating func start() throws(JSONReadError) {
        _ = try ensure(3)
        if end - pos >= 3 && buf[pos] == 0xEF && buf[pos + 1] == 0xBB && buf[pos + 2] == 0xBF {
            pos += 3
            lineStart = base + pos
        }
        guard layout == .array else { return }
        var b = try peek()
        if pos >= end { throw JSONReadError(path: name, line: 0, column: 0, message: "empty file") }
        var depth = 0
        for (level, key) in recordPath.enumerated() {
            guard b == 0x7B else { throw notAnArray(b, at: level) }
            depth += 1
            if depth > maxDepth { throw depthError(at: pos) }
            pos += 1
            b = try peek()
            var found = false
            if b != 0x7D {
                let target = Array(key.utf8)
                while true {
                    guard b == 0x22 else { throw keyError(b) }
                    let matches = try keyEquals(target)
                    b = try peek()
                    guard b == 0x3A else { throw error("expected ':' after object key", at: pos) }
                    pos += 1
                    b = try peek()
                    if matches {
                        found = true
                        break
                    }
                    try walkValue(depth: depth + 1, emit: false)
                    b = try peek()
                    if b == 0x2C {
                        pos += 1
                        b = try peek()
                        continue
                    }
                    if b == 0x7D { break }
                    throw error("expected ',' or '}' after object member", at: pos)
                }
            }
            if !found {
                let quoted = "\"" + key.replacingOccurrences(of: "\"", with: "\\\"") + "\""
                throw noArray("no member \(quoted) in \(JSONCore.display(recordPath[0..<level]))")
            }
        }
        guard b == 0x5B else { throw notAnArray(b, at: recordPath.count) }
        depth += 1
        if depth > maxDepth { throw depthError(at: pos) }
        pos += 1
        arrayDepth = depth
    }

    mutating func notAnArray(_ b: UInt8, at level: Int) -> JSONReadError {
        guard let noun = JSONCore.kindNoun(b) else { return valueError() }
        let place = level < recordPath.count ? " at \(JSONCore.display(recordPath[0..<level]))" : ""
        return noArray("found \(noun)\(place)")
    }

    func noArray(_ detail: String) -> JSONReadError {
        JSONReadError(path: name, line: 0, column: 0, message: "no array at \(JSONCore.display(recordPath[...])) (\(detail))")
    }

    /// `$.data.customers`, with `['odd key']` for keys that are not identifiers.
    static func display(_ keys: ArraySlice<String>) -> String {
        var s = "$"
        for k in keys {
            let isIdentifier =
                !k.isEmpty
                && k.unicodeScalars.enumerated().allSatisfy { i, c in
                    c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || (i > 0 && ("0"..."9").contains(c))
                }
            if isIdentifier {
                s += "." + k
            } else {
                s += "['" + k.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "']"
            }
        }
        return s
    }

    /// Whether the key string at `pos` equals `target` (decoded).
    mutating func keyEquals(_ target: [UInt8]) throws(JSONReadError) -> Bool {
        let r = try scanString(keep: true)
        if !r.escaped {
            let n = r.end - r.start
            guard n == target.count else { return false }
            if n == 0 { return true }
            let p = buf + r.start
            return target.withUnsafeBufferPointer { memcmp($0.baseAddress!, p, n) == 0 }
        }
        decodeEscapes(r.start, r.end)
        return scratch == target
    }

    mutating func next() throws(JSONReadError) -> JSONReadItem? {
        switch layout {
        case .array: return try nextArrayItem()
        case .ndjson: return try nextLine()
        }
    }

    mutating func nextArrayItem() throws(JSONReadError) -> JSONReadItem? {
        var b: UInt8
        switch arrayState {
        case .done:
            return nil
        case .first:
            b = try peek()
            if b == 0x5D {
                pos += 1
                try finishDocument()
                return nil
            }
        case .more:
            b = try peek()
            if b == 0x2C {
                pos += 1
                b = try peek()
                if b == 0x5D { throw error("trailing comma before ']'", at: pos) }
            } else if b == 0x5D {
                pos += 1
                try finishDocument()
                return nil
            } else {
                throw error("expected ',' or ']' after array element", at: pos)
            }
        }
        arrayState = .more
        recordIndex += 1
        let recordLine = line
        if b == 0x7B {
            return .record(JSONRecord(fields: try parseRecord(depth: arrayDepth + 1), line: recordLine))
        }
        guard let kind = JSONCore.kindPhrase(b) else { throw valueError() }
        outLimit = JSONCore.rawLimit
        defer { outLimit = Int.max }
        let raw = try serialize(depth: arrayDepth + 1)
        return .problem(
            line: recordLine, reason: "record \(recordIndex) is \(kind), expected an object",
            raw: JSONCore.truncatedText(Array(raw.utf8)))
    }

    /// After the records array: checks the rest of the document (members after the array, up
    /// the record path) without building it, then that nothing follows.
    mutating func finishDocument() throws(JSONReadError) {
        arrayState = .done
        for level in stride(from: recordPath.count, to: 0, by: -1) {
            while true {
                var b = try peek()
                if b == 0x7D {
                    pos += 1
                    break
                }
                guard b == 0x2C else { throw error("expected ',' or '}' after object member", at: pos) }
                pos += 1
                b = try peek()
                guard b == 0x22 else { throw keyError(b) }
                _ = try scanString(keep: false)
                b = try peek()
                guard b == 0x3A else { throw error("expected ':' after object key", at: pos) }
                pos += 1
                try walkValue(depth: level + 1, emit: false)
            }
        }
        _ = try peek()
        if pos < end { throw error("unexpected \(describe(pos)) after the end of the document", at: pos) }
    }

    mutating func nextLine() throws(JSONReadError) -> JSONReadItem? {
        while true {
            lineStart = base + pos
            cont = 0
            lineHead.removeAll(keepingCapacity: true)
            let b = try peek()
            if pos >= end { return nil }
            if b == 0x0A {
                pos += 1
                line += 1
                continue
            }
            recordIndex += 1
            let recordLine = line
            do throws(JSONReadError) {
                return try parseLine(b, line: recordLine)
            } catch {
                if error.line == 0 { throw error }  // I/O: not the line's fault
                let raw = try skipRestOfLine()
                return .problem(line: recordLine, reason: "column \(error.column): \(error.message)", raw: raw)
            }
        }
    }

    mutating func parseLine(_ b: UInt8, line recordLine: Int) throws(JSONReadError) -> JSONReadItem {
        var reason: String? = nil
        var recordFields: [(String, Value)] = []
        if b == 0x7B {
            recordFields = try parseRecord(depth: 1)
        } else {
            guard let kind = JSONCore.kindPhrase(b) else { throw valueError() }
            try walkValue(depth: 1, emit: false)
            reason = "record \(recordIndex) is \(kind), expected an object"
        }
        let c = try peek()
        if pos < end && c != 0x0A { throw error("unexpected \(describe(pos)) after the value", at: pos) }
        let raw = reason == nil ? "" : lineText(upTo: pos)
        if pos < end {
            pos += 1
            line += 1
        }
        if let reason { return .problem(line: recordLine, reason: reason, raw: raw) }
        return .record(JSONRecord(fields: recordFields, line: recordLine))
    }

    /// NDJSON recovery: moves past the next newline, returning the line's text.
    mutating func skipRestOfLine() throws(JSONReadError) -> String {
        var i = min(pos, end)
        while true {
            if let q = memchr(buf + i, 0x0A, end - i) {
                let j = buf.distance(to: q.assumingMemoryBound(to: UInt8.self))
                let raw = lineText(upTo: j)
                pos = j + 1
                line += 1
                return raw
            }
            if eof {
                let raw = lineText(upTo: end)
                pos = end
                return raw
            }
            let k = end
            try refill(keep: k)
            pos = 0
            i = 0
        }
    }

    /// The current line up to `buf[j]`, without a trailing CR, at most `rawLimit` bytes.
    func lineText(upTo j: Int) -> String {
        var bytes = lineHead
        let from = max(lineStart - base, 0)
        let room = JSONCore.rawLimit + 1 - bytes.count
        if from < j && room > 0 {
            bytes.append(contentsOf: UnsafeBufferPointer(start: buf + from, count: min(j - from, room)))
        }
        if base + j - lineStart <= JSONCore.rawLimit && bytes.last == 0x0D { bytes.removeLast() }
        return JSONCore.truncatedText(bytes)
    }

    // MARK: Records

    /// The object at `pos` as a record's fields.
    mutating func parseRecord(depth: Int) throws(JSONReadError) -> [(String, Value)] {
        if keys.isLarge { keys.reset() }
        recordSerial += 1
        fields = []
        fields.reserveCapacity(lastFieldCount)
        fieldPath.removeAll(keepingCapacity: true)
        _ = try parseObject(parent: -1, depth: depth)
        lastFieldCount = max(fields.count, 4)
        let record = fields
        fields = []
        return record
    }

    /// Parses the members of the object at `pos` into columns under `parent`; returns whether it was empty.
    mutating func parseObject(parent: Int32, depth: Int) throws(JSONReadError) -> Bool {
        if depth > maxDepth { throw depthError(at: pos) }
        objectSerial += 1
        let serial = objectSerial
        pos += 1
        var b = try peek()
        if b == 0x7D {
            pos += 1
            return true
        }
        var previous: Int32 = -1
        while true {
            guard b == 0x22 else { throw keyError(b) }
            let predicted = previous < 0 ? keys.firstChild(of: parent) : keys.entries[Int(previous)].next
            let key = try parseKey(parent: parent, predicted: predicted)
            if key != predicted {
                if previous < 0 { keys.setFirstChild(of: parent, key) } else { keys.entries[Int(previous)].next = key }
            }
            previous = key
            b = try peek()
            guard b == 0x3A else { throw error("expected ':' after object key", at: pos) }
            pos += 1
            b = try peek()
            let entry = keys.entries + Int(key)
            if entry.pointee.seenIn == serial {
                try replaceDuplicate(key, b, depth: depth)
            } else {
                entry.pointee.seenIn = serial
                try parseMember(key, b, depth: depth)
            }
            b = try peek()
            if b == 0x2C {
                pos += 1
                b = try peek()
                continue
            }
            if b == 0x7D {
                pos += 1
                return false
            }
            throw error("expected ',' or '}' after object member", at: pos)
        }
    }

    /// The value of member `key` (first byte `b`) of an object at `depth`.
    mutating func parseMember(_ key: Int32, _ b: UInt8, depth: Int) throws(JSONReadError) {
        switch b {
        case 0x22:
            emit(key, .text(try parseString()))
        case 0x2D, 0x30...0x39:
            emit(key, try parseNumber())
        case 0x7B:
            if flatten {
                if try parseObject(parent: key, depth: depth + 1) { emit(key, .null) }
            } else {
                emit(key, .text(try serialize(depth: depth + 1)))
            }
        case 0x5B:
            emit(key, .text(try serialize(depth: depth + 1)))
        case 0x74, 0x66, 0x6E:
            switch try parseLiteral() {
            case .trueValue: emit(key, .integer(1))
            case .falseValue: emit(key, .integer(0))
            case .null: emit(key, .null)
            }
        default:
            throw valueError()
        }
    }

    /// Adds a column, or replaces the value of one the record already has (keeping its place).
    @inline(__always)
    mutating func emit(_ key: Int32, _ value: Value) {
        let c = Int(keys.entries[Int(key)].column)
        let column = keys.entries + c
        if column.pointee.stamp == recordSerial {
            let f = column.pointee.field
            fields[f].1 = value
            fieldPath[f] = key
            return
        }
        column.pointee.stamp = recordSerial
        column.pointee.field = fields.count
        fields.append((keys.names[c], value))
        fieldPath.append(key)
    }

    /// A key seen twice in one object: the last value wins, in the first one's place. The columns
    /// of the first value go (all of them, if it was an object) and the new ones take their place.
    mutating func replaceDuplicate(_ key: Int32, _ b: UInt8, depth: Int) throws(JSONReadError) {
        var insertAt = -1
        var keptFields: [(String, Value)] = []
        var keptPaths: [Int32] = []
        keptFields.reserveCapacity(fields.count)
        keptPaths.reserveCapacity(fields.count)
        for k in 0..<fields.count {
            if isWithin(fieldPath[k], key) {
                if insertAt < 0 { insertAt = keptFields.count }
                keys.entries[Int(keys.entries[Int(fieldPath[k])].column)].stamp = 0
            } else {
                keptFields.append(fields[k])
                keptPaths.append(fieldPath[k])
            }
        }
        fields = keptFields
        fieldPath = keptPaths
        reindexColumns()
        let before = fields.count
        try parseMember(key, b, depth: depth)
        if insertAt >= 0 && insertAt < before && fields.count > before {
            let movedFields = Array(fields[before...])
            let movedPaths = Array(fieldPath[before...])
            fields.removeSubrange(before...)
            fieldPath.removeSubrange(before...)
            fields.insert(contentsOf: movedFields, at: insertAt)
            fieldPath.insert(contentsOf: movedPaths, at: insertAt)
            reindexColumns()
        }
    }

    mutating func reindexColumns() {
        for k in 0..<fields.count {
            let column = keys.entries + Int(keys.entries[Int(fieldPath[k])].column)
            column.pointee.stamp = recordSerial
            column.pointee.field = k
        }
    }

    func isWithin(_ entry: Int32, _ ancestor: Int32) -> Bool {
        var e = entry
        while e >= 0 {
            if e == ancestor { return true }
            e = keys.entries[Int(e)].parent
        }
        return false
    }

    /// The key string at `pos`, as the table entry for `parent` → key. `predicted` is the entry
    /// that followed the previous key last time: with a steady schema it matches, and the key
    /// costs one comparison instead of a hash lookup.
    @inline(__always)
    mutating func parseKey(parent: Int32, predicted: Int32) throws(JSONReadError) -> Int32 {
        let r = try scanString(keep: true)
        if !r.escaped {
            let p = UnsafePointer(buf + r.start)
            let n = r.end - r.start
            if predicted >= 0 && keys.matches(predicted, p, n) { return predicted }
            return keys.intern(parent, p, n)
        }
        decodeEscapes(r.start, r.end)
        return scratch.withUnsafeBufferPointer { key in
            key.baseAddress.map { keys.intern(parent, $0, key.count) } ?? -1
        }
    }
}
