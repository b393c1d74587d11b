import Aurum
import Foundation

/// XML and Excel (.xlsx) sources, and Excel as an output format (libxml2 + ZIPFoundation).
///
/// `register()` adds the `xml` and `excel` source types and the `excel` output format to
/// `ConnectorRegistry.shared`; call it once at start-up (the executable does).
public enum AurumXML {
    public static func register() {
        ConnectorRegistry.shared.register(source: XMLSourceConnector())
        ConnectorRegistry.shared.register(source: ExcelSourceConnector())
        ConnectorRegistry.shared.register(target: ExcelTargetConnector())
    }
}

/// OOXML string escapes: `_xHHHH_` stands for the character U+HHHH (how workbooks carry control
/// characters; `_x005F_` is a literal underscore).
enum ExcelText {
    static func unescape(_ s: String) -> String {
        guard s.contains("_x") else { return s }
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "_", let end = s.index(i, offsetBy: 7, limitedBy: s.endIndex), s[s.index(after: i)] == "x",
               s[s.index(before: end)] == "_", let code = UInt32(s[s.index(i, offsetBy: 2) ..< s.index(i, offsetBy: 6)], radix: 16),
               let scalar = Unicode.Scalar(code) {
                out.unicodeScalars.append(scalar)
                i = end
            } else {
                out.append(s[i])
                i = s.index(after: i)
            }
        }
        return out
    }
}
