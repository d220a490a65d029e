/// An error enum whose case names are stable identifiers (the bad-input corpus manifests name the
/// error each file must produce).
public protocol CaseNamed {}

extension CaseNamed {
    /// The name of the enum case, without its associated values (`"gapInOffsets"`).
    public var caseName: String {
        // An enum case with associated values reflects as one child labelled with the case name.
        Mirror(reflecting: self).children.first?.label ?? String(describing: type(of: self))
    }
}
