// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "zoo",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "zoo", targets: ["zoo"]),
        .library(name: "Formats", targets: ["Formats"]),
        .library(name: "Convert", targets: ["Convert"]),
        .library(name: "Verify", targets: ["Verify"]),
        .library(name: "ModelZoo", targets: ["ModelZoo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // Linux calls Swift's Glibc module does not import (sync_file_range), as inline wrappers.
        .target(name: "CZooSystem"),
        // OpenBLAS, for the matrix products of the reference forward pass.
        .systemLibrary(name: "CBLAS", providers: [.apt(["libopenblas-dev"])]),
        // Zstandard, for compressed checkpoint files.
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"])]),
        // protobuf-c code generated from Protos/tensor_bundle.proto (Scripts/generate-protos.sh).
        .target(name: "CTensorBundleProto", linkerSettings: [.linkedLibrary("protobuf-c")]),
        // protobuf-c code generated from Protos/sentencepiece_model.proto, for `spiece.model` tokenizers.
        .target(name: "CSentencePieceProto", linkerSettings: [.linkedLibrary("protobuf-c")]),
        // Intel ISA-L, for the CRC-32C of TensorFlow checkpoints.
        .systemLibrary(name: "CISAL", providers: [.apt(["libisal-dev"])]),
        // libdeflate, for the CRC-32 of zip members.
        .systemLibrary(name: "CDeflate", providers: [.apt(["libdeflate-dev"])]),
        // The hot loops (casts, Q8_0, the comparison), in C so they get AVX2/AVX-512 clones chosen at load time.
        .target(name: "CZooKernels"),
        // Bytes on disk <-> named tensors. Knows nothing about T5.
        .target(
            name: "Formats",
            dependencies: [
                "CZooSystem", "CDeflate", "CZstd", "CISAL", "CTensorBundleProto", "CSentencePieceProto", "CZooKernels",
                // SHA-256 of the files it writes, as it writes them (`WrittenFileDigests`).
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // T5 knowledge: configs, name schemes, casts, conversion plans.
        .target(name: "Convert", dependencies: ["Formats", "CZooKernels"]),
        // Numbers: tensor comparison, digests.
        .target(
            name: "Verify",
            dependencies: [
                "Convert", "Formats", "CBLAS", "CZooKernels", "CZooSystem",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The T5-Efficient family: the registry and its name grammar, mirrors, the model cache,
        // download and pull (verified like every conversion). `registry.json` at the top links to
        // the bundled one.
        .target(
            name: "ModelZoo", dependencies: ["Verify", "Convert", "Formats"],
            resources: [.copy("Resources/registry.json")]
        ),
        // The CLI: argument parsing, progress, output.
        .executableTarget(
            name: "zoo",
            dependencies: [
                "Formats", "Convert", "Verify", "ModelZoo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("Sample")]
        ),
        // Fixture paths, temporary directories and running the built binary, for every test target.
        .target(name: "TestSupport", dependencies: ["Formats"], path: "Tests/TestSupport"),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "TestSupport"]),
        .testTarget(name: "ConvertTests", dependencies: ["Convert", "Formats", "TestSupport"]),
        .testTarget(name: "VerifyTests", dependencies: ["Verify", "Convert", "Formats", "TestSupport"]),
        .testTarget(name: "ModelZooTests", dependencies: ["ModelZoo", "Verify", "Convert", "Formats", "TestSupport"]),
        .testTarget(name: "ZooCLITests", dependencies: ["zoo", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
