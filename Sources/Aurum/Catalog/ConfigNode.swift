import Foundation
import Yams

/// Collects every problem found while reading a catalog, each with its file, line and config path.
final class ConfigDiagnostics {
    let file: String
    private(set) var errors: [AurumError] = []
    init(file: String) { self.file = file }

    func error(_ at: ConfigNode?, _ path: String? = nil, _ message: String, hint: String? = nil) {
        let p = path ?? at?.path ?? ""
        var loc = file
        if let m = at?.node.mark { loc += ":\(m.line):\(m.column)" }
        errors.append(AurumError(.invalidCatalog, p.isEmpty ? message : "\(p): \(message)", at: loc, hint: hint))
    }
}

/// A node of the catalog document with the config path that leads to it (`sources[2].path`).
///
/// YAML and JSON are read by the same YAML parser (JSON is YAML), which keeps line numbers.
struct ConfigNode {
    let node: Node
    let path: String
    let diagnostics: ConfigDiagnostics

    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    var isMapping: Bool { node.mapping != nil }
    var isSequence: Bool { node.sequence != nil }
    var isNull: Bool {
        guard let s = node.scalar else { return false }
        return s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    var keys: [String] { node.mapping?.map { $0.key.string ?? "" } ?? [] }

    subscript(key: String) -> ConfigNode? {
        guard let m = node.mapping else { return nil }
        for (k, v) in m where k.string == key { return ConfigNode(node: v, path: childPath(key), diagnostics: diagnostics) }
        return nil
    }

    /// The first of several accepted spellings of a key that is present.
    func any(_ names: String...) -> ConfigNode? {
        for n in names { if let c = self[n] { return c } }
        return nil
    }

    var elements: [ConfigNode] {
        guard let s = node.sequence else { return [] }
        return s.enumerated().map { ConfigNode(node: $1, path: "\(path)[\($0)]", diagnostics: diagnostics) }
    }

    var pairs: [(String, ConfigNode)] {
        guard let m = node.mapping else { return [] }
        return m.map { ($0.key.string ?? "", ConfigNode(node: $0.value, path: childPath($0.key.string ?? ""), diagnostics: diagnostics)) }
    }

    func fail(_ message: String, hint: String? = nil) { diagnostics.error(self, nil, message, hint: hint) }

    /// Reports keys that are not in `allowed`, suggesting the closest allowed one.
    func checkKeys(_ allowed: [String]) {
        guard let m = node.mapping else { return }
        for (k, _) in m {
            let key = k.string ?? ""
            if allowed.contains(key) { continue }
            let at = ConfigNode(node: k, path: childPath(key), diagnostics: diagnostics)
            at.fail("unknown key '\(key)'", hint: suggestion(key, allowed).map { "did you mean '\($0)'?" })
        }
    }

    /// Requires a mapping; reports and returns false otherwise.
    func expectMapping() -> Bool {
        if isMapping { return true }
        fail("expected an object (mapping), found \(kindName)")
        return false
    }

    var kindName: String {
        switch node {
        case .mapping: "an object"
        case .sequence: "a list"
        case .scalar: isNull ? "null" : "'\(node.scalar?.string ?? "")'"
        case .alias: "an alias"
        }
    }

    // MARK: Typed access (each reports a type error at its own path)

    var string: String? {
        guard let s = node.scalar, !isNull else {
            if !isNull { fail("expected a string, found \(kindName)") }
            return nil
        }
        return s.string
    }

    var bool: Bool? {
        guard let s = node.scalar?.string else { fail("expected true or false, found \(kindName)"); return nil }
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: fail("expected true or false, found '\(s)'"); return nil
        }
    }

    var int: Int? {
        guard let s = node.scalar?.string, let i = Int(s) else { fail("expected an integer, found \(kindName)"); return nil }
        return i
    }

    /// A scalar as a warehouse value: quoted scalars are text, plain ones are typed.
    var value: Value {
        guard let s = node.scalar else { return .text(String(describing: node.any)) }
        if s.style != .plain { return .text(s.string) }
        if isNull { return .null }
        if let i = Int64(s.string) { return .integer(i) }
        if let d = Double(s.string), s.string.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { return .real(d) }
        switch s.string { case "true": return .integer(1); case "false": return .integer(0); default: return .text(s.string) }
    }

    /// The node as JSON (mappings keep their order; plain scalars are typed).
    var json: JSON {
        switch node {
        case .mapping: return .object(pairs.map { ($0.0, $0.1.json) })
        case .sequence: return .array(elements.map(\.json))
        default:
            switch value {
            case .null: return .null
            case .integer(let i):
                if let s = node.scalar?.string, s == "true" || s == "false" { return .bool(s == "true") }
                return .int(i)
            case .real(let d): return .double(d)
            case .text(let t): return .string(t)
            case .blob: return .null
            }
        }
    }

    /// A string or a list of strings.
    var stringList: [String]? {
        if isSequence { return elements.compactMap(\.string) }
        if let s = node.scalar?.string, !isNull { return [s] }
        fail("expected a string or a list of strings, found \(kindName)")
        return nil
    }

    func enumValue<E: RawRepresentable & CaseIterable>(_ type: E.Type, what: String) -> E? where E.RawValue == String {
        guard let s = string else { return nil }
        if let e = E(rawValue: s.lowercased()) { return e }
        let names = E.allCases.map(\.rawValue)
        fail("unknown \(what) '\(s)'",
             hint: suggestion(s.lowercased(), names).map { "did you mean '\($0)'?" } ?? "expected one of: \(names.joined(separator: ", "))")
        return nil
    }
}

/// The closest candidate by edit distance, if it is close enough to be a likely typo.
func suggestion(_ word: String, _ candidates: [String]) -> String? {
    var best: (String, Int)?
    for c in candidates {
        let d = TextFunctions.levenshtein(word.lowercased(), c.lowercased())
        if d <= max(2, c.count / 3), best == nil || d < best!.1 { best = (c, d) }
    }
    return best?.0
}
