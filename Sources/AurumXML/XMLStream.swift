import Aurum
import Foundation
@preconcurrency internal import CLibXML2

/// A pull parser over one XML file (libxml2's xmlTextReader): constant memory, since the reader frees
/// each node once it has moved past it (nothing here calls `xmlTextReaderExpand`/`Preserve`).
///
/// One owner per handle: `close()` frees it exactly once (also called from `deinit`).
final class XMLStream {
    enum Event {
        case start(local: String, namespace: String?, attributes: [(local: String, namespace: String?, value: String)], empty: Bool)
        case end
        case text(String)
    }

    /// What libxml2 reported through the structured error handler (first error wins).
    final class ErrorBox {
        var message: String?
        var line: Int = 0
    }

    let path: String
    /// Name shown in messages (`book.xlsx[xl/worksheets/sheet1.xml]` for a part of a workbook).
    let displayName: String
    private var reader: xmlTextReaderPtr?
    private let errors = ErrorBox()

    init(path: String, displayName: String? = nil) throws {
        self.path = path
        self.displayName = displayName ?? path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw AurumError(.source, FileManager.default.fileExists(atPath: path) ? "file is not readable" : "no such file", at: self.displayName)
        }
        // No network access, no entity expansion (XXE), no DTD loading.
        let options = Int32(XML_PARSE_NONET.rawValue) | Int32(XML_PARSE_COMPACT.rawValue) | Int32(XML_PARSE_HUGE.rawValue)
            | Int32(XML_PARSE_BIG_LINES.rawValue)
        guard let r = xmlReaderForFile(path, nil, options) else {
            throw AurumError(.source, "cannot open XML file", at: self.displayName)
        }
        reader = r
        xmlTextReaderSetStructuredErrorHandler(r, { arg, err in
            guard let arg, let err else { return }
            let box = Unmanaged<ErrorBox>.fromOpaque(arg).takeUnretainedValue()
            guard box.message == nil, err.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
            let msg = err.pointee.message.map { String(cString: $0) } ?? "unknown error"
            box.message = msg.trimmingCharacters(in: .whitespacesAndNewlines)
            box.line = Int(err.pointee.line)
        }, Unmanaged.passUnretained(errors).toOpaque())
    }

    deinit { close() }

    func close() {
        if let r = reader { xmlFreeTextReader(r) }
        reader = nil
    }

    /// The line of the node just read (the parser's position when there is none).
    var line: Int {
        guard let r = reader else { return 0 }
        if let node = xmlTextReaderCurrentNode(r) {
            let l = xmlGetLineNo(node)
            if l > 0 { return Int(l) }
        }
        return Int(xmlTextReaderGetParserLineNumber(r))
    }

    /// The next start/end/text event, or nil at the end of the document.
    func next() throws -> Event? {
        guard let r = reader else { return nil }
        while true {
            let status = xmlTextReaderRead(r)
            if status == 0 {
                if let m = errors.message { throw failure(m) }
                return nil
            }
            if status < 0 { throw failure(errors.message ?? "malformed XML") }
            switch Int32(xmlTextReaderNodeType(r)) {
            case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                let local = string(xmlTextReaderConstLocalName(r)) ?? ""
                let ns = string(xmlTextReaderConstNamespaceUri(r))
                let empty = xmlTextReaderIsEmptyElement(r) == 1
                var attrs: [(local: String, namespace: String?, value: String)] = []
                if xmlTextReaderHasAttributes(r) == 1 {
                    while xmlTextReaderMoveToNextAttribute(r) == 1 {
                        if xmlTextReaderIsNamespaceDecl(r) == 1 { continue }
                        attrs.append((string(xmlTextReaderConstLocalName(r)) ?? "", string(xmlTextReaderConstNamespaceUri(r)),
                                      string(xmlTextReaderConstValue(r)) ?? ""))
                    }
                    xmlTextReaderMoveToElement(r)
                }
                return .start(local: local, namespace: ns, attributes: attrs, empty: empty)
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
                return .end
            case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue),
                 Int32(XML_READER_TYPE_WHITESPACE.rawValue), Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue):
                return .text(string(xmlTextReaderConstValue(r)) ?? "")
            default:
                continue
            }
        }
    }

    private func failure(_ message: String) -> AurumError {
        let line = errors.line > 0 ? errors.line : Int(reader.map { xmlTextReaderGetParserLineNumber($0) } ?? 0)
        return AurumError(.source, "malformed XML: \(message)", at: line > 0 ? "\(displayName):\(line)" : displayName)
    }

    private func string(_ p: UnsafePointer<xmlChar>?) -> String? {
        guard let p else { return nil }
        return String(cString: p)
    }
}
