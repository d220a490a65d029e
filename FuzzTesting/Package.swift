// swift-tools-version: 6.0
import PackageDescription

// libFuzzer harnesses for zoo's readers, outside the main build (see README.md).
// Build: swift build -c release --scratch-path .build -Xswiftc -sanitize=fuzzer,address
//
// Each harness is an executable whose `LLVMFuzzerTestOneInput` is Swift (`@_cdecl`) and whose
// `main` is the C driver's: `-parse-as-library` executables do not link under SwiftPM, a C `main`
// calling `LLVMFuzzerRunDriver` does.
let harnesses = [
    "FuzzSafetensors", "FuzzTorchZip", "FuzzPickle", "FuzzTorchLegacy", "FuzzTensorFlow", "FuzzJSON", "FuzzGGUF",
]

let package = Package(
    name: "FuzzTesting",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "zoo", path: "..")],
    targets: [
        // `main`, handing the command line to libFuzzer.
        .target(name: "CFuzzDriver"),
        // Scratch files, input repairs (CRCs) and the "read everything, render every error" loop.
        .target(name: "FuzzSupport", dependencies: [.product(name: "Formats", package: "zoo")]),
    ]
        + harnesses.map { name in
            .executableTarget(
                name: name,
                dependencies: ["CFuzzDriver", "FuzzSupport", .product(name: "Formats", package: "zoo")]
                    // GGUF files of llama.cpp's T5 are read as models too: analysis, forward pass, parity.
                    + (name == "FuzzGGUF"
                        ? [.product(name: "Convert", package: "zoo"), .product(name: "Verify", package: "zoo")] : [])
            )
        },
    swiftLanguageModes: [.v6]
)
