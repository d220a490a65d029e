/// An error whose message is printed as is (ArgumentParser prints `Error: <message>` and exits 1).
struct ValidationFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
