import Testing
import NNsightNN
import NNsightTorch
@testable import NNsight

/// A model type written outside the package, editable: the protocol gives it no shared list of
/// edits, so each of its instances owns its own.
final class WrappedSequential: EditableModel {
    typealias Input = Tensor
    let inner: NNsightModel<Sequential>
    let edits: Edits

    init(_ inner: NNsightModel<Sequential>, edits: Edits = Edits()) {
        self.inner = inner
        self.edits = edits
    }

    var envoys: EnvoyTree { inner.envoys }
    func batch(_ inputs: [Tensor]) throws -> PreparedBatch { try inner.batch(inputs) }
    func sharing(edits: Edits) -> WrappedSequential { WrappedSequential(inner, edits: edits) }
}

/// Each model owns its edits: an in-place edit of one model changes no other.
struct EditOwnershipTests {
    @Test func testInplaceEditChangesOnlyItsOwnModel() throws {
        let first = WrappedSequential(try makeTiny()), second = WrappedSequential(try makeTiny())
        let x = try Tensor.rand([1, 5])
        first.edit(inplace: true) { m in try m.layer1.output[.all] = 0 }
        #expect(first.edits.count == 1)
        #expect(second.edits.count == 0)
        let zeroed = try first.trace(x) { m in try m.layer1.output }
        #expect(try zeroed.abs().sum().item(Float.self) == 0)
        let untouched = try second.trace(x) { m in try m.layer1.output }
        #expect(try untouched.equal(try second.inner.layer1(x)))
        // A fresh model of the same type starts clean too.
        let third = WrappedSequential(try makeTiny())
        #expect(third.edits.count == 0)
        #expect(try third.trace(x) { m in try m.layer1.output }.equal(try third.inner.layer1(x)))
        first.clearEdits()
        #expect(try first.trace(x) { m in try m.layer1.output }.equal(try first.inner.layer1(x)))
    }

    @Test func testNonInplaceEditLeavesTheOriginal() throws {
        let model = WrappedSequential(try makeTiny())
        let x = try Tensor.rand([1, 5])
        let edited = model.edit { m in try m.layer2.output[.all] = 0 }
        #expect(try edited.trace(x) { m in try m.layer2.output }.abs().sum().item(Float.self) == 0)
        #expect(try model.trace(x) { m in try m.layer2.output }.equal(try model.inner.module(x)))
        #expect(model.edits.count == 0 && edited.edits.count == 1)
    }
}
