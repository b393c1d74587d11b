// libFuzzer target: CSVReader(bytes:) on arbitrary bytes, all batches.
import Aurum

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: data, count: size))
    do {
        let r = try CSVReader(bytes: bytes)
        while let _ = try r.nextBatch(maxRows: 64) {}
    } catch {}
    return 0
}
