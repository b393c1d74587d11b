// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Aurum",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "aurum", targets: ["AurumCLI"]),
        .library(name: "Aurum", targets: ["Aurum"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(
            name: "Aurum",
            dependencies: ["CSQLite3", "Yams"]
        ),
        .executableTarget(
            name: "AurumCLI",
            dependencies: ["Aurum", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "AurumTests",
            dependencies: ["Aurum", "AurumCLI"]
        ),
    ]
)
