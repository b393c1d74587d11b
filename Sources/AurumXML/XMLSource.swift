import Aurum
import Foundation

/// XML source: each element at the record path becomes one record, streamed (memory stays bounded by
/// the largest record, not the file).
///
/// Settings (`options:`):
/// - `records`: the record path, an absolute path of element names, `/export/customers/customer`
///   (also taken from the source's `records:` / `query`). A leading `//` matches the rest of the path at
///   any depth (`//customer`); a step `*` matches any element. Default: every child of the root element.
/// - `namespaces`: `{prefix: uri}` for prefixed steps (`/e:export/e:customer`). A prefixed step matches
///   the element's local name *and* namespace URI; an unprefixed step matches the local name in any
///   namespace (so documents with a default namespace need no declaration).
/// - `attribute_prefix`: put before attribute names in column names (default none: `id`, `address.type`;
///   set `"@"` for `@id`, `address.@type`).
///
/// Columns: attributes of the record element are columns named after the attribute (local name);
/// child elements are flattened to dotted paths of local names (`address.city`), their attributes too
/// (`address.type`). A leaf element's text is its column's value (kept as written, CDATA included); an
/// element with children keeps its non-blank text under its own path (the record element's under `#text`).
/// A repeated child gets an index from the second occurrence on: `phone`, `phone[2]`, `phone[3]`.
/// All values are text; an empty element is the empty string.
struct XMLSourceConnector: SourceConnector {
    var types: [SourceType] { [.xml] }

    func validate(_ spec: SourceSpec) -> [(String, String)] {
        do { _ = try XMLRecordPath(spec) } catch let e as AurumError {
            return [(e.location ?? spec.location, e.message + (e.hint.map { " (\($0))" } ?? ""))]
        } catch {}
        return []
    }

    func open(_ spec: SourceSpec) throws -> RowReader {
        let recordPath = try XMLRecordPath(spec)
        var prefix = ""
        if case .string(let p)? = spec.options["attribute_prefix"] { prefix = p }
        return XMLRowReader(stream: try XMLStream(path: spec.path), path: recordPath, attributePrefix: prefix)
    }
}

/// A parsed record path.
struct XMLRecordPath {
    struct Step {
        var local: String      // "*" matches any element
        var namespace: String? // nil: any namespace
        func matches(_ l: String, _ ns: String?) -> Bool {
            (local == "*" || local == l) && (namespace == nil || namespace == (ns ?? ""))
        }
    }
    var steps: [Step]
    /// `//a/b`: the steps match the innermost elements, at any depth.
    var anyDepth: Bool

    init(_ spec: SourceSpec) throws {
        var text: String?
        if case .string(let s)? = spec.options["records"] { text = s }
        else if spec.options["records"] != nil {
            throw AurumError(.invalidCatalog, "options.records must be a path such as /export/customers/customer", at: "\(spec.location).options.records")
        }
        else if let q = spec.query, !q.isEmpty { text = q }
        else if !spec.recordPath.isEmpty { text = "/" + spec.recordPath.joined(separator: "/") }
        var namespaces: [String: String] = [:]
        if let n = spec.options["namespaces"] {
            guard case .object(let pairs) = n else {
                throw AurumError(.invalidCatalog, "options.namespaces must map prefixes to namespace URIs", at: "\(spec.location).options.namespaces")
            }
            for (k, v) in pairs {
                guard case .string(let uri) = v else {
                    throw AurumError(.invalidCatalog, "namespace '\(k)' must be a URI string", at: "\(spec.location).options.namespaces.\(k)")
                }
                namespaces[k] = uri
            }
        }
        guard var t = text?.trimmingCharacters(in: .whitespaces), !t.isEmpty else {
            steps = [Step(local: "*", namespace: nil), Step(local: "*", namespace: nil)]
            anyDepth = false
            return
        }
        anyDepth = t.hasPrefix("//")
        if anyDepth { t.removeFirst(2) } else if t.hasPrefix("/") { t.removeFirst() }
        var steps: [Step] = []
        for part in t.split(separator: "/", omittingEmptySubsequences: false) {
            let name = String(part)
            guard !name.isEmpty, !name.contains(where: { "[]()@=' \"".contains($0) }) else {
                throw AurumError(.invalidCatalog, "unsupported record path '\(text!)'",
                                 at: "\(spec.location).options.records",
                                 hint: "a path of element names such as /export/customers/customer (// and * allowed)")
            }
            if let colon = name.firstIndex(of: ":") {
                let prefix = String(name[..<colon])
                guard let uri = namespaces[prefix] else {
                    throw AurumError(.invalidCatalog, "namespace prefix '\(prefix)' in record path '\(text!)' is not declared",
                                     at: "\(spec.location).options.records", hint: "declare it in options.namespaces: {\(prefix): URI}")
                }
                steps.append(Step(local: String(name[name.index(after: colon)...]), namespace: uri))
            } else {
                steps.append(Step(local: name, namespace: nil))
            }
        }
        self.steps = steps
    }
}

final class XMLRowReader: RowReader {
    private let stream: XMLStream
    private let path: XMLRecordPath
    private let attributePrefix: String
    private(set) var columns: [String] = []
    private var known: Set<String> = []
    private(set) var itemsRead = 0
    /// Element names from the root to the current element (outside records).
    private var stack: [(local: String, ns: String?, matched: Bool)] = []

    init(stream: XMLStream, path: XMLRecordPath, attributePrefix: String) {
        self.stream = stream
        self.path = path
        self.attributePrefix = attributePrefix
    }

    func close() { stream.close() }

    private func isRecord(local: String, ns: String?) -> Bool {
        let steps = path.steps
        let depth = stack.count  // the new element's depth (0 = root)
        if path.anyDepth {
            guard depth + 1 >= steps.count, steps.last!.matches(local, ns) else { return false }
            for k in 0 ..< steps.count - 1 {
                let e = stack[depth - (steps.count - 1) + k]
                if !steps[k].matches(e.local, e.ns) { return false }
            }
            return true
        }
        guard depth == steps.count - 1, steps[depth].matches(local, ns) else { return false }
        return stack.allSatisfy(\.matched)
    }

    func next() throws -> RowItem? {
        while let e = try stream.next() {
            switch e {
            case .start(let local, let ns, let attributes, let empty):
                if isRecord(local: local, ns: ns) {
                    let line = stream.line
                    var record = RecordBuilder(attributePrefix: attributePrefix)
                    record.start("", attributes)
                    if empty { record.end() } else { try readRecord(&record) }
                    itemsRead += 1
                    for (name, _) in record.fields where known.insert(name).inserted { columns.append(name) }
                    return .fields(record.fields, line: line)
                }
                if !empty {
                    let d = stack.count
                    let matched = path.anyDepth || (d < path.steps.count - 1 && path.steps[d].matches(local, ns) && stack.allSatisfy(\.matched))
                    stack.append((local, ns, matched))
                }
            case .end:
                if !stack.isEmpty { stack.removeLast() }
            case .text:
                continue
            }
        }
        return nil
    }

    /// Reads events up to the record element's end.
    private func readRecord(_ record: inout RecordBuilder) throws {
        while let e = try stream.next() {
            switch e {
            case .start(let local, _, let attributes, let empty):
                record.start(local, attributes)
                if empty { record.end() }
            case .end:
                record.end()
                if record.depth == 0 { return }
            case .text(let t):
                record.text(t)
            }
        }
    }
}

/// Flattens one record's elements into (column, value) pairs.
struct RecordBuilder {
    struct Open {
        var path: String
        var text = ""
        var hasChildren = false
        var hasAttributes = false
        var childCounts: [String: Int] = [:]
    }
    let attributePrefix: String
    var fields: [(String, Value)] = []
    private var open: [Open] = []
    private var seen: [String: Int] = [:]

    init(attributePrefix: String) { self.attributePrefix = attributePrefix }

    var depth: Int { open.count }

    mutating func start(_ local: String, _ attributes: [(local: String, namespace: String?, value: String)]) {
        var path = ""
        if !open.isEmpty {
            open[open.count - 1].hasChildren = true
            let n = (open[open.count - 1].childCounts[local] ?? 0) + 1
            open[open.count - 1].childCounts[local] = n
            let name = n == 1 ? local : "\(local)[\(n)]"
            path = open.count == 1 ? name : open[open.count - 1].path + "." + name
        }
        for a in attributes {
            let name = attributePrefix + a.local
            add(path.isEmpty ? name : path + "." + name, a.value)
        }
        open.append(Open(path: path, hasAttributes: !attributes.isEmpty))
    }

    mutating func text(_ t: String) {
        if !open.isEmpty { open[open.count - 1].text += t }
    }

    mutating func end() {
        guard let o = open.popLast() else { return }
        let name = o.path.isEmpty ? "#text" : o.path
        if o.hasChildren || o.path.isEmpty {
            let trimmed = o.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { add(name, trimmed) }
        } else if !(o.hasAttributes && o.text.isEmpty) {
            add(name, o.text)
        }
    }

    private mutating func add(_ name: String, _ value: String) {
        // The same column twice in one record (an attribute named like a child): keep both, the second indexed.
        if let n = seen[name] {
            seen[name] = n + 1
            fields.append(("\(name)[\(n + 1)]", .text(value)))
        } else {
            seen[name] = 1
            fields.append((name, .text(value)))
        }
    }
}
