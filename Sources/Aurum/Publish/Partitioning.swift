import Foundation

/// Hive-style partition directory names that can never leave the output directory.
enum PartitionPath {
    static let defaultPartition = "__HIVE_DEFAULT_PARTITION__"
    static let maxSegment = 128

    /// Encodes a partition value as one safe path segment: bytes outside `[A-Za-z0-9._-]` become
    /// `%XX`, a leading dot is encoded (no `.`/`..`), NULL/empty is the Hive default partition, and
    /// long values are cut and suffixed with a hash so distinct values stay distinct.
    static func encode(_ value: String?) -> String {
        guard let value, !value.isEmpty else { return defaultPartition }
        var out = ""
        for (i, b) in value.utf8.enumerated() {
            let safe = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") || (b == UInt8(ascii: ".") && i > 0)
            if safe { out.unicodeScalars.append(Unicode.Scalar(b)) } else { out += String(format: "%%%02X", b) }
        }
        if out.utf8.count > maxSegment {
            out = String(out.utf8.prefix(maxSegment - 17).map { Character(Unicode.Scalar($0)) })
            out += "~" + String(format: "%016llx", FNV1a.hash(value))
        }
        return out
    }

    static func segment(_ name: String, _ value: String?) -> String { "\(encode(name))=\(encode(value))" }

    /// The directory segments for one row's partition value.
    static func segments(_ spec: PartitionSpec, _ value: Value) -> [String] {
        switch spec.type {
        case .category:
            return [segment(spec.column, value.textValue)]
        case .hash:
            let width = String(max(spec.buckets - 1, 0)).count
            return ["bucket=" + String(format: "%0\(width)d", bucket(value, spec.buckets))]
        case .date:
            guard let s = value.textValue, let iso = TextFunctions.parseDate(s, formats: []), iso.utf8.count >= 10 else {
                return ["year=" + defaultPartition]
            }
            let u = Array(iso.utf8)
            let part = { (r: Range<Int>) in String(decoding: u[r], as: UTF8.self) }
            return ["year=" + encode(part(0..<4)), "month=" + encode(part(5..<7)), "day=" + encode(part(8..<10))]
        }
    }

    /// FNV-1a of the value's text, modulo the bucket count (NULL goes to bucket 0).
    static func bucket(_ value: Value, _ buckets: Int) -> Int {
        guard let s = value.textValue else { return 0 }
        return Int(FNV1a.hash(s) % UInt64(max(buckets, 1)))
    }

    /// Joins segments under `root`, refusing any result outside it (belt and braces).
    static func directory(root: String, _ segments: [String]) throws -> String {
        let base = URL(fileURLWithPath: root).standardizedFileURL.path
        let dir = segments.reduce(URL(fileURLWithPath: base)) { $0.appendingPathComponent($1) }.standardizedFileURL.path
        guard dir.hasPrefix(base + "/") else {
            throw AurumError(.output, "partition path escapes the output directory", at: root)
        }
        return dir
    }
}
