/// Arithmetic on numbers read from files, where overflow is bad input to report, not a trap.
extension Int {
    /// `self + other`, or `nil` if the sum does not fit.
    public func checkedAdding(_ other: Int) -> Int? {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? nil : sum
    }

    /// `self * other`, or `nil` if the product does not fit.
    public func checkedMultiplying(by other: Int) -> Int? {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? nil : product
    }
}

extension Sequence where Element == Int {
    /// The product of the elements, or `nil` if it overflows at any step.
    public func checkedProduct() -> Int? {
        var product = 1
        for element in self {
            guard let next = product.checkedMultiplying(by: element) else { return nil }
            product = next
        }
        return product
    }
}
