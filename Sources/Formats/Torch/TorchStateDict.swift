/// The tensors of an unpickled `torch.save` object, named by their path in it.
///
/// A state dict is a flat (Ordered)Dict of name -> tensor. A full training checkpoint nests
/// dicts and lists (`{"model": {...}, "epoch": 3}`); its tensors are named by dotted path
/// (`model.w`, `history.0`) and every non-tensor value is reported as skipped.
struct TorchStateDict {
    struct Entry {
        let name: String
        let tensor: TorchTensorDescriptor
    }

    /// Deeper than any checkpoint nests; shallow enough to recurse safely.
    static let maxDepth = 32

    private(set) var entries: [Entry] = []
    private(set) var skipped: [String] = []
    private var names = Set<String>()
    private var onPath = Set<ObjectIdentifier>()
    private let path: String

    /// Collects the tensors of `root`, which must be a dict.
    init(_ root: PickleValue, path: String) throws(TorchError) {
        self.path = path
        guard case .dict = root else {
            throw .notAStateDict(path: path, reason: "the saved object is a \(root.kind), not a dict of tensors")
        }
        try visit(root, name: nil, depth: 0)
    }

    private mutating func visit(_ value: PickleValue, name: String?, depth: Int) throws(TorchError) {
        guard depth <= Self.maxDepth else {
            throw .notAStateDict(path: path, reason: "'\(name ?? "")' nests more than \(Self.maxDepth) levels deep")
        }
        func child(_ key: String) -> String { name.map { "\($0).\(key)" } ?? key }
        switch value {
        case let .tensor(tensor):
            let tensorName = name ?? ""
            guard names.insert(tensorName).inserted else {
                throw .notAStateDict(path: path, reason: "two entries are both named '\(tensorName)'")
            }
            entries.append(Entry(name: tensorName, tensor: tensor))
        case let .dict(dict):
            try enter(dict, name: name)
            for (key, item) in dict.entries {
                try visit(item, name: child(try keyText(key, in: name)), depth: depth + 1)
            }
            onPath.remove(ObjectIdentifier(dict))
        case let .list(list):
            try enter(list, name: name)
            for (index, item) in list.items.enumerated() {
                try visit(item, name: child(String(index)), depth: depth + 1)
            }
            onPath.remove(ObjectIdentifier(list))
        case let .tuple(items):
            for (index, item) in items.enumerated() { try visit(item, name: child(String(index)), depth: depth + 1) }
        default:
            skipped.append("\(name ?? "") (\(value.kind))")
        }
    }

    /// Marks a container as being visited; meeting it again on the same path means it contains itself.
    private mutating func enter(_ container: AnyObject, name: String?) throws(TorchError) {
        guard onPath.insert(ObjectIdentifier(container)).inserted else {
            throw .notAStateDict(path: path, reason: "'\(name ?? "")' contains itself")
        }
    }

    private func keyText(_ key: PickleValue, in name: String?) throws(TorchError) -> String {
        switch key {
        case let .string(text): return text
        case let .int(number): return String(number)
        default: throw .notAStateDict(path: path, reason: "a key in '\(name ?? "")' is a \(key.kind), not a string")
        }
    }
}
