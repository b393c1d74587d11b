import Foundation
import Testing
@testable import AurumParquet

/// Inputs found while fuzzing the reader (Fuzz/, scripts/fuzz.sh), kept in Fuzz/Regressions/FuzzParquet/:
/// each must give a clear ParquetError, never a trap or an unbounded allocation.
@Suite struct ParquetFuzzRegressionTests {
    static let regressions = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/Regressions/FuzzParquet").standardized.path

    /// 392 bytes (Fuzz/Corpus/make_parquet_bomb.py): a required INT64 column whose row group claims
    /// 2^31-1 rows, all one dictionary value (one RLE run). The reader allocated 16 GiB for the slots
    /// before looking at the data; now the chunk is refused against ChunkDecoder.maxDecodedBytes.
    @Test func rleDictionaryBombIsRefusedBeforeAllocating() throws {
        let p = ParquetFuzzRegressionTests.regressions + "/rle-dictionary-bomb.parquet"
        let r = try ParquetReader(path: p)
        #expect(r.rowCount == Int(Int32.max))
        expectParquetError("rle-dictionary-bomb.parquet: column chunk of 2147483647 rows would decode to more than the 1024 MiB") {
            _ = try r.readRowGroup(0)
        }
    }
}
