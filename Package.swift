// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Aurum",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "aurum", targets: ["AurumCLI"]),
        .library(name: "Aurum", targets: ["Aurum"]),
        // For the benchmark programs in Benchmarks/ (built by Benchmarks/build.sh).
        .library(name: "AurumParquet", targets: ["AurumParquet"]),
        .library(name: "AurumRedis", targets: ["AurumRedis"]),
        .library(name: "AurumMongo", targets: ["AurumMongo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "CAurumSQLite", dependencies: ["CSQLite3"]),
        .systemLibrary(name: "CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CSystemZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),   // no pkgConfig: its flags make SwiftPM warn
        .systemLibrary(name: "CMongoc", pkgConfig: "libmongoc-1.0", providers: [.apt(["libmongoc-dev", "libbson-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .target(
            name: "Aurum",
            dependencies: ["CSQLite3", "CAurumSQLite", "Yams"]
        ),
        // Parquet in Swift over the compression libraries; free of the core so it can be reused.
        .target(name: "AurumParquet", dependencies: ["CSnappy", "CZstd", "CSystemZlib"]),
        // Connectors, one module per C library or heavy dependency, registered by the executable.
        .target(name: "AurumPostgres", dependencies: ["Aurum", "CLibPQ"]),
        .target(name: "AurumRedis", dependencies: ["Aurum", "CHiredis"]),
        .target(name: "AurumMongo", dependencies: ["Aurum", "CMongoc"]),
        .target(name: "AurumParquetConnector", dependencies: ["Aurum", "AurumParquet"]),
        .target(name: "AurumXML", dependencies: ["Aurum", "CLibXML2", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // HTTP APIs through URLSession: FoundationNetworking (libcurl) stays out of the core.
        .target(name: "AurumAPI", dependencies: ["Aurum"]),
        .executableTarget(
            name: "AurumCLI",
            dependencies: ["Aurum", "AurumAPI", "AurumMongo", "AurumParquetConnector", "AurumPostgres", "AurumRedis", "AurumXML",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Helpers the test targets share (temporary folders, processes, Python peers).
        .target(name: "AurumTestSupport", path: "Tests/AurumTestSupport"),
        .testTarget(
            name: "AurumTests",
            dependencies: ["Aurum", "AurumCLI", "AurumTestSupport"]
        ),
        .testTarget(name: "AurumParquetTests", dependencies: ["AurumParquet"]),
        .testTarget(name: "AurumParquetConnectorTests", dependencies: ["AurumParquetConnector", "Aurum", "AurumParquet", "AurumTestSupport"]),
        .testTarget(name: "AurumXMLTests", dependencies: ["AurumXML", "Aurum", "AurumTestSupport"]),
        .testTarget(name: "AurumPostgresTests", dependencies: ["Aurum", "AurumPostgres", "AurumTestSupport"]),
        .testTarget(name: "AurumRedisTests", dependencies: ["Aurum", "AurumRedis", "AurumTestSupport"]),
        .testTarget(name: "AurumMongoTests", dependencies: ["Aurum", "AurumMongo", "AurumTestSupport"]),
        // Against a local Python HTTP server; the end-to-end test runs the built `aurum`, hence AurumCLI.
        .testTarget(name: "AurumAPITests", dependencies: ["Aurum", "AurumAPI", "AurumCLI", "AurumTestSupport"],
                    exclude: ["api_test_server.py"]),
        // Sync, status and reconcile against every kind of target, the real servers included.
        .testTarget(name: "AurumSyncTests",
                    dependencies: ["Aurum", "AurumCLI", "AurumPostgres", "AurumRedis", "AurumMongo", "AurumTestSupport"]),
        // The built `aurum` against the real servers: faults mid-run, error messages, secrets.
        .testTarget(name: "AurumServerTests",
                    dependencies: ["Aurum", "AurumCLI", "AurumPostgres", "AurumRedis", "AurumMongo", "AurumTestSupport"]),
        // The built `aurum` killed with SIGKILL at every fault point and at random moments, then run again.
        .testTarget(name: "AurumCrashTests", dependencies: ["Aurum", "AurumCLI", "AurumPostgres", "AurumTestSupport"]),
    ]
)
