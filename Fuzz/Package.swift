// swift-tools-version: 6.1
// libFuzzer targets for Aurum's readers. A separate package so the main Package.swift stays untouched;
// the modules under test are symlinks (Sources/<Module> -> ../../Sources/<Module>).
// Build and run with scripts/fuzz.sh TARGET [SECONDS] (see Fuzz/README.md).
import PackageDescription

let package = Package(
    name: "AurumFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CSystemZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .target(name: "Aurum", dependencies: ["CSQLite3", "Yams"]),
        .target(name: "AurumParquet", dependencies: ["CSnappy", "CZstd", "CSystemZlib"]),
        .target(name: "AurumXML", dependencies: ["Aurum", "CLibXML2", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .executableTarget(name: "FuzzParquet", dependencies: ["AurumParquet"]),
        .executableTarget(name: "FuzzXLSX", dependencies: ["AurumXML", "Aurum"]),
        .executableTarget(name: "FuzzXML", dependencies: ["AurumXML", "Aurum"]),
        .executableTarget(name: "FuzzCSV", dependencies: ["Aurum"]),
        .executableTarget(name: "FuzzJSON", dependencies: ["Aurum"]),
    ]
)
