import Foundation
import Testing
@testable import Torch

/// Swift-side conveniences built on the shim (split, chunk, views, masks, dropout, sampling),
/// checked against values worked out by hand.
@Suite struct TensorHelperTests {
    let x: Tensor

    init() throws { x = try Tensor((0..<12).map(Float.init), shape: [3, 4]) }

    @Test func splitChunkNarrowAndSubscript() throws {
        #expect(try x.split(3, dim: 1).map(\.shape) == [[3, 3], [3, 1]])
        #expect(try x.split(sizes: [1, 2], dim: 0).map { try $0.toArray(Float.self) }
            == [[0, 1, 2, 3], [4, 5, 6, 7, 8, 9, 10, 11]])
        #expect(try x.chunk(2, dim: 0).map(\.shape) == [[2, 4], [1, 4]])
        #expect(try x.narrow(1, 1, 2).toArray(Float.self) == [1, 2, 5, 6, 9, 10])
        #expect(try x[2].toArray(Float.self) == [8, 9, 10, 11])
        #expect(try x.slice(1, 1..<3).shape == [3, 2])
    }

    @Test func viewsShareStorageAndRefuseIncompatibleStrides() throws {
        let v = try x.view([4, 3])
        try v.fill_(1)
        #expect(try x.sum().item() == 12)
        #expect(!(try x.transpose(0, 1)).isContiguous)
        #expect(throws: TorchError.self) { try x.transpose(0, 1).view([12]) }
        #expect(try x.transpose(0, 1).contiguous().view([12]).shape == [12])
        #expect(x.strides == [4, 1])
        let alias = x.alias()
        try alias.zero_()
        #expect(try x.sum().item() == 0)
    }

    @Test func masksAndLogic() throws {
        let m = try x.gt(5.0)
        #expect(m.dtype == .bool)
        #expect(try x.maskedSelect(m).toArray(Float.self) == [6, 7, 8, 9, 10, 11])
        #expect(try m.logicalAnd(x.lt(8.0)).toArray(Bool.self).filter { $0 }.count == 2)
        #expect(try m.logicalOr(x.eq(0.0)).logicalNot().toArray(Bool.self).filter { $0 }.count == 5)
        let weird = try Tensor([Float.nan, .infinity, 1])
        #expect(try weird.isNaN().toArray(Bool.self) == [true, false, false])
        #expect(try weird.isFinite().toArray(Bool.self) == [false, false, true])
    }

    @Test func dropoutIsIdentityOffTrainingAndScalesKeptValues() throws {
        let ones = try Tensor.ones([10_000])
        #expect(try ones.dropout(0.5, training: false) === ones)
        #expect(try ones.dropout(0, training: true) === ones)
        let dropped = try ones.dropout(0.25, training: true).toArray(Float.self)
        #expect(Set(dropped).isSubset(of: [0, Float(1) / 0.75]))
        let kept = Double(dropped.filter { $0 != 0 }.count) / 10_000
        #expect(Swift.abs(kept - 0.75) < 0.05)
    }

    @Test func multinomialDrawsOnlyPossibleIndices() throws {
        let probs = try Tensor([Float(0), 1, 0, 3], shape: [1, 4])
        let draws = try probs.expand([50, 4]).multinomial(1).toArray(Int64.self)
        #expect(draws.count == 50)
        #expect(Set(draws).isSubset(of: [1, 3]))
    }
}
