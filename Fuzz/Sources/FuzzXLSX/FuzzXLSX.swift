// libFuzzer target: the Excel (.xlsx) source on arbitrary bytes (ZIP container, workbook, rels, shared
// strings, styles, sheet rows). Each input is written to one per-process file on tmpfs.
@testable import Aurum
@testable import AurumXML
import Foundation

let scratch = (ProcessInfo.processInfo.environment["FUZZ_TMP"] ?? "/dev/shm") + "/aurum-fuzz-\(getpid()).xlsx"
nonisolated(unsafe) var registered = false

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    if !registered { AurumXML.register(); registered = true }
    _ = FileManager.default.createFile(atPath: scratch, contents: Data(bytes: data, count: size))
    var spec = SourceSpec(name: "x", type: .excel, path: scratch, location: "sources[0]")
    spec.header = size % 2 == 0
    guard let c = ConnectorRegistry.shared.source(.excel) else { fatalError("excel source not registered") }
    do {
        let r = try c.open(spec)
        defer { r.close() }
        while let _ = try r.next() {}
    } catch {}
    return 0
}
