import ArgumentParser
import Foundation

/// Prints `value` as pretty JSON on standard output, keys sorted so output is stable.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    print(String(decoding: data, as: UTF8.self))
}

/// Thousands separators, for parameter counts.
func grouped(_ number: Int) -> String {
    let digits = String(number)
    var output = ""
    for (index, character) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { output += "," }
        output.append(character)
    }
    return output
}

/// `--json`, shared by the subcommands that print a report (`@OptionGroup`), so the flag reads
/// and behaves the same everywhere.
struct JSONOutput: ParsableArguments {
    @Flag(help: "Print JSON for scripts.")
    var json = false
}
