/// The object keys a `JSONCore` has seen: one entry per path (parent entry → key), holding the
/// full column name and the per-record bookkeeping of flattening and duplicate detection.
///
/// Entries live in manually managed memory (they are plain values) so the hot path pays neither
/// uniqueness nor bounds checks; `JSONCore.release()` frees it. Indices are `Int32` entry ids.
struct JSONKeyTable {
    struct Entry {
        var hash: UInt64
        var offset: Int
        var length: Int
        var parent: Int32
        /// Entry whose full name this column uses: entries with equal names ("a.b" vs a → b) share it.
        var column: Int32
        /// The entry that followed this one in its object last time, and the first key seen under it.
        var next: Int32 = -1
        var firstChild: Int32 = -1
        /// Serial of the object instance that last had this key (duplicate detection).
        var seenIn = 0
        /// As a column: the record serial that has it, and its field index there.
        var stamp = 0
        var field = 0
    }

    var entries: UnsafeMutablePointer<Entry>
    var count = 0
    var capacity = 256
    var bytes: UnsafeMutablePointer<UInt8>
    var byteCount = 0
    var byteCapacity = 4096
    var slots = [Int32](repeating: -1, count: 1024)
    var names: [String] = []
    var columnByName: [String: Int32] = [:]
    var rootFirst: Int32 = -1

    init() {
        entries = .allocate(capacity: capacity)
        bytes = .allocate(capacity: byteCapacity)
    }

    func deallocate() {
        entries.deallocate()
        bytes.deallocate()
    }

    /// Past this the table is cleared between records, so files with ever-new keys stay bounded.
    var isLarge: Bool { count > 1 << 16 || byteCount > 4 << 20 }

    mutating func reset() {
        count = 0
        byteCount = 0
        slots = [Int32](repeating: -1, count: 1024)
        names.removeAll()
        columnByName.removeAll()
        rootFirst = -1
    }

    @inline(__always)
    func firstChild(of parent: Int32) -> Int32 {
        parent < 0 ? rootFirst : entries[Int(parent)].firstChild
    }

    @inline(__always)
    mutating func setFirstChild(of parent: Int32, _ e: Int32) {
        if parent < 0 { rootFirst = e } else { entries[Int(parent)].firstChild = e }
    }

    @inline(__always)
    func matches(_ e: Int32, _ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let entry = entries + Int(e)
        return entry.pointee.length == n && JSONKeyTable.equal(bytes + entry.pointee.offset, p, n)
    }

    @inline(__always)
    static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let x = UnsafeRawPointer(a)
        let y = UnsafeRawPointer(b)
        var i = 0
        while i + 8 <= n {
            if x.loadUnaligned(fromByteOffset: i, as: UInt64.self) != y.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                return false
            }
            i += 8
        }
        while i < n {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int, _ parent: Int32) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ (UInt64(UInt32(bitPattern: parent)) &* 0xBF58_476D_1CE4_E5B9) ^ UInt64(n)
        let raw = UnsafeRawPointer(p)
        var i = 0
        while i + 8 <= n {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x9FB2_1C65_1E98_DF25
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(p[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0x9FB2_1C65_1E98_DF25
        return h ^ (h >> 32)
    }

    /// The entry for `parent` → key `p[0..<n]`, added if new.
    mutating func intern(_ parent: Int32, _ p: UnsafePointer<UInt8>, _ n: Int) -> Int32 {
        let h = JSONKeyTable.hash(p, n, parent)
        let mask = slots.count - 1
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = slots[s]
            if e < 0 { break }
            let entry = entries + Int(e)
            if entry.pointee.hash == h && entry.pointee.parent == parent && matches(e, p, n) { return e }
            s = (s + 1) & mask
        }
        if count == capacity {
            let grown = UnsafeMutablePointer<Entry>.allocate(capacity: capacity * 2)
            grown.moveInitialize(from: entries, count: count)
            entries.deallocate()
            entries = grown
            capacity *= 2
        }
        if byteCount + n > byteCapacity {
            let newCapacity = max(byteCapacity * 2, byteCount + n)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: bytes, count: byteCount)
            bytes.deallocate()
            bytes = grown
            byteCapacity = newCapacity
        }
        let id = Int32(count)
        (bytes + byteCount).update(from: p, count: n)
        let key = String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
        let full = parent < 0 ? key : names[Int(parent)] + "." + key
        let column: Int32
        if let existing = columnByName[full] {
            column = existing
        } else {
            column = id
            columnByName[full] = id
        }
        (entries + count).initialize(to: Entry(hash: h, offset: byteCount, length: n, parent: parent, column: column))
        names.append(full)
        byteCount += n
        count += 1
        slots[s] = id
        if count * 2 > slots.count { growSlots() }
        return id
    }

    mutating func growSlots() {
        var grown = [Int32](repeating: -1, count: slots.count * 2)
        let mask = grown.count - 1
        for i in 0..<count {
            var s = Int(truncatingIfNeeded: entries[i].hash) & mask
            while grown[s] >= 0 { s = (s + 1) & mask }
            grown[s] = Int32(i)
        }
        slots = grown
    }
}
