// libFuzzer target: ParquetReader on arbitrary bytes (footer, schema, every row group, statistics).
// The reader reads from a path, so each input is written to one per-process file on tmpfs.
import AurumParquet
import Foundation

let scratch = (ProcessInfo.processInfo.environment["FUZZ_TMP"] ?? "/dev/shm") + "/aurum-fuzz-parquet-\(getpid()).parquet"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    if fd < 0 { fatalError("cannot write \(scratch)") }
    var done = 0
    while done < size { let n = write(fd, data + done, size - done); if n <= 0 { fatalError("write") }; done += n }
    close(fd)
    do {
        let r = try ParquetReader(path: scratch)
        for g in 0 ..< r.rowGroupCount {
            for c in 0 ..< r.columns.count { _ = r.statistics(rowGroup: g, column: c) }
            let cols = try r.readRowGroup(g)
            for col in cols where col.count > 0 { _ = col.value(at: col.count - 1) }
        }
    } catch {}
    return 0
}
