/// Moves a manually managed buffer to an allocation of at least `need` elements (and at least
/// twice `capacity`), keeping its first `keep` elements; updates `p` and `capacity`.
@inline(__always)
package func regrow<T>(_ p: inout UnsafeMutablePointer<T>, capacity: inout Int, to need: Int, keep: Int) {
    let n = max(need, capacity * 2)
    let q = UnsafeMutablePointer<T>.allocate(capacity: n)
    q.moveInitialize(from: p, count: keep)
    p.deallocate()
    p = q
    capacity = n
}
