// libFuzzer target: the XML source (libxml2 stream + record flattening) on arbitrary bytes, with the
// default record path and a `//` path. Each input is written to one per-process file on tmpfs.
@testable import Aurum
@testable import AurumXML
import Foundation

let scratch = (ProcessInfo.processInfo.environment["FUZZ_TMP"] ?? "/dev/shm") + "/aurum-fuzz-\(getpid()).xml"
nonisolated(unsafe) var registered = false

func drain(_ spec: SourceSpec) {
    guard let c = ConnectorRegistry.shared.source(spec.type) else { fatalError("xml source not registered") }
    do {
        let r = try c.open(spec)
        defer { r.close() }
        while let _ = try r.next() {}
    } catch {}
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    if !registered { AurumXML.register(); registered = true }
    _ = FileManager.default.createFile(atPath: scratch, contents: Data(bytes: data, count: size))
    var spec = SourceSpec(name: "x", type: .xml, path: scratch, location: "sources[0]")
    drain(spec)
    spec.options["records"] = .string(size % 2 == 0 ? "//record" : "/*/*/*")
    spec.options["attribute_prefix"] = .string("@")
    drain(spec)
    return 0
}
