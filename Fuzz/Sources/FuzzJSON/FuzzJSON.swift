// libFuzzer target: JSONRecordReader(bytes:) on arbitrary bytes, array and NDJSON layouts.
import Aurum

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: data, count: size))
    var options = JSONReadOptions()
    options.layout = size % 2 == 0 ? .array : .ndjson
    options.chunkSize = 64
    do {
        let r = try JSONRecordReader(bytes: bytes, name: "fuzz.json", options: options)
        while let _ = try r.next() {}
    } catch {}
    return 0
}
