import Foundation
import Testing
@testable import Aurum

@Suite struct PartitionPathTests {
    @Test(arguments: ["../../etc", "..", ".", "/abs/path", "a/b", "x\u{0}y", "con:fuse\\me", "%2e%2e", String(repeating: "é", count: 400)])
    func hostileValuesStayInsideTheOutputDirectory(value: String) throws {
        let seg = PartitionPath.segment("col", value)
        #expect(!seg.contains("/"))
        #expect(!seg.contains("\u{0}"))
        #expect(seg.utf8.count <= 4 + PartitionPath.maxSegment)
        #expect(seg != "col=." && seg != "col=..")
        let root = "/tmp/aurum-out"
        let dir = try PartitionPath.directory(root: root, [seg])
        #expect(dir.hasPrefix(root + "/"))
        #expect((dir as NSString).deletingLastPathComponent == root)
    }

    @Test func encodingIsHiveStyleAndInjective() {
        #expect(PartitionPath.segment("country", "US") == "country=US")
        #expect(PartitionPath.segment("city", "São Paulo") == "city=S%C3%A3o%20Paulo")
        #expect(PartitionPath.segment("x", nil) == "x=__HIVE_DEFAULT_PARTITION__")
        #expect(PartitionPath.segment("x", "") == "x=__HIVE_DEFAULT_PARTITION__")
        #expect(PartitionPath.encode("..") == "%2E.")
        #expect(PartitionPath.encode("50%") == "50%25")
        let a = PartitionPath.encode(String(repeating: "a", count: 300) + "1")
        let b = PartitionPath.encode(String(repeating: "a", count: 300) + "2")
        #expect(a != b)
        #expect(a.utf8.count == PartitionPath.maxSegment)
    }

    @Test func dateAndHashSegments() {
        let date = PartitionSpec(column: "d", type: .date)
        #expect(PartitionPath.segments(date, .text("2024-03-07")) == ["year=2024", "month=03", "day=07"])
        #expect(PartitionPath.segments(date, .text("not a date")) == ["year=__HIVE_DEFAULT_PARTITION__"])
        let hash = PartitionSpec(column: "id", type: .hash, buckets: 16)
        let s = PartitionPath.segments(hash, .text("abc"))
        #expect(s == ["bucket=" + String(format: "%02d", Int(FNV1a.hash("abc") % 16))])
        #expect(PartitionPath.segments(hash, .integer(42)) == PartitionPath.segments(hash, .text("42")))
    }

    @Test func aPartitionedRunWritesOnlyInsideItsDirectory() throws {
        let dir = TempDir()
        dir.write("in.csv", "id,cat\n1,../../escape\n2,/etc/passwd\n3,ok\n4,\n")
        let config = dir.write("c.json", """
            {"data_sources": [{"source_name": "s", "source_type": "csv", "connection_string": "in.csv"}],
             "output_config": {"output_format": "csv", "output_destination": "out/parts",
                               "partitioning": {"partition_by": "cat", "partition_type": "category"}}}
            """)
        _ = try Pipeline.run(try CatalogLoader.load(path: config))
        let listing = try FileManager.default.subpathsOfDirectory(atPath: dir.file("out/parts")).sorted()
        #expect(listing == [
            "cat=%2E.%2F..%2Fescape", "cat=%2E.%2F..%2Fescape/part-00000.csv",
            "cat=%2Fetc%2Fpasswd", "cat=%2Fetc%2Fpasswd/part-00000.csv",
            "cat=__HIVE_DEFAULT_PARTITION__", "cat=__HIVE_DEFAULT_PARTITION__/part-00000.csv",
            "cat=ok", "cat=ok/part-00000.csv",
        ])
        #expect(!FileManager.default.fileExists(atPath: dir.file("escape")))
        #expect(dir.read("out/parts/cat=ok/part-00000.csv") == "id,cat\n3,ok\n")
    }
}
