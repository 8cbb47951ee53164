/// A set of equal-length cells in one 64-byte-aligned allocation, with the C pointer table
/// ISA-L takes. Reusable across stripes so the hot path allocates nothing.
public final class CellBuffer {
    public let cellCount: Int
    public let cellLength: Int
    private let storage: UnsafeMutableRawPointer
    /// `cellCount` pointers, one per cell, in order.
    public let pointers: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>

    public init(cells: Int, cellLength: Int) {
        precondition(cells >= 0 && cellLength >= 0)
        self.cellCount = cells
        self.cellLength = cellLength
        let stride = Self.alignedStride(cellLength)
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(64, stride * cells), alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: max(64, stride * cells))
        pointers = .allocate(capacity: max(1, cells))
        for i in 0..<cells {
            pointers[i] = (storage + i * stride).assumingMemoryBound(to: UInt8.self)
        }
    }

    deinit {
        storage.deallocate()
        pointers.deallocate()
    }

    private static func alignedStride(_ length: Int) -> Int { (length + 63) & ~63 }

    public func cell(_ index: Int) -> UnsafeMutableRawBufferPointer {
        precondition((0..<cellCount).contains(index))
        return UnsafeMutableRawBufferPointer(start: pointers[index], count: cellLength)
    }

    /// Copies `bytes` into the cell and zero-fills the rest of it.
    public func store(_ bytes: some Collection<UInt8>, at index: Int) {
        let target = cell(index)
        let copied = bytes.count
        precondition(copied <= target.count)
        target.copyBytes(from: bytes)
        if copied < target.count {
            target.baseAddress!.advanced(by: copied).initializeMemory(as: UInt8.self, repeating: 0, count: target.count - copied)
        }
    }

    public func bytes(at index: Int) -> [UInt8] { Array(UnsafeRawBufferPointer(cell(index))) }
}
