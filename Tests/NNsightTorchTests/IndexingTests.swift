import Testing
@testable import NNsightTorch

/// Indexing with Python's meaning, getters and setters (Tests/Fixtures/torch/indexing.json).
/// The Python form of each index is in the fixture generator; the keys below name them.
struct IndexingTests {
    let fixture: Fixture
    init() throws {
        try torchSetUp()
        fixture = try Fixture.load("indexing")
    }

    @Test func getters() throws {
        let c = fixture["get"]
        let x = try c.input("x"), mask = try c.input("mask"), ids = try c.input("ids"), ids2 = try c.input("ids2")
        let cases: [(String, Tensor)] = try TorchErrorSink.collect {
            [
                ("i1", x[1]),                                           // x[1]
                ("neg", x[-1]),                                         // x[-1]
                ("i12", x[1, 2]),                                       // x[1, 2]
                ("neg3", x[-1, -2, -3]),                                // x[-1, -2, -3]
                ("r13", x[1..<3]),                                      // x[1:3]
                ("all_1m1", x[.all, .slice(1, -1)]),                    // x[:, 1:-1]
                ("ell_last", x[.ellipsis, -1]),                         // x[..., -1]
                ("none", x[.newAxis]),                                  // x[None]
                ("step2", x[.slice(step: 2)]),                          // x[::2]
                ("mixed", x[.all, .slice(step: 2), 1...]),              // x[:, ::2, 1:]
                ("zero_ell_none", x[0, .ellipsis, .newAxis]),           // x[0, ..., None]
                ("mask", x[mask]),                                      // x[mask]
                ("ids", x[ids]),                                        // x[ids]
                ("ids_dim1", x[.all, ids2]),                            // x[:, ids2]
                ("ids_pair", x[ids, try Tensor([0, 1, 3] as [Int])]),   // x[ids, tensor([0, 1, 3])]
                ("slice_1m1", x[.slice(1, -1)]),                        // x[1:-1]
                ("from_neg", x[(-2)...]),                               // x[-2:]
                ("upto", x[.all, ..<2]),                                // x[:, :2]
                ("through", x[.all, ...2]),                             // x[:, :3]
                ("ell_mid", x[0, .ellipsis, 2]),                        // x[0, ..., 2]
                ("row_mask", x[try Tensor([true, false, true])]),      // x[tensor([True, False, True])]
                ("closed_13", x[1...2]),                                // x[1:3]
                ("step3_neg_start", x[0, 0, .slice(-4, step: 3)]),      // x[0, 0, -4::3]
                ("none_mid", x[.all, .newAxis, 1]),                     // x[:, None, 1]
                ("bool_true", x[true]),                                 // x[True]
            ]
        }
        #expect(cases.count == c.outputNames.count)
        for (name, value) in cases { try expectMatches(value, c.output(name), name) }
        // The throwing form agrees with the subscript.
        try expectMatches(try x.index([.ellipsis, -1]), c.output("ell_last"), "index([..., -1])")
    }

    @Test func basicIndicesGiveViewsAdvancedIndicesCopy() throws {
        let x = try Tensor.arange(12, dtype: .float32).reshape(3, 4)
        let row = try x.index([1])
        let column = try x.index([.all, 2])
        let picked = try x.index([Tensor([0, 2] as [Int])])
        #expect(row.sharesStorage(with: x) && column.sharesStorage(with: x))
        #expect(!picked.sharesStorage(with: x))
        try x.add_(100.0)
        #expect(try row.toArray(Float.self) == [104, 105, 106, 107])
        #expect(try column.toArray(Float.self) == [102, 106, 110])
        #expect(try picked.toArray(Float.self) == [0, 1, 2, 3, 8, 9, 10, 11])
    }

    @Test func setters() throws {
        let c = fixture["set"]
        let x = try c.input("x"), mask = try c.input("mask"), ids = try c.input("ids"), ids2 = try c.input("ids2")
        func run(_ name: String, _ body: (Tensor) throws -> Void) throws {
            let y = try x.clone()
            try TorchErrorSink.collect { try body(y) }
            try expectMatches(y, c.output(name), name)
        }
        try run("set_int") { y in y[0] = 0 }                                              // y[0] = 0
        try run("set_ellipsis") { y in y[.ellipsis, -1] = -1 }                            // y[..., -1] = -1
        try run("set_slice_tensor") { y in                                                // y[:, 1:3] = tensor([...])
            y[.all, 1..<3] = try Tensor([100, 200, 300, 400, 500] as [Float])
        }
        try run("set_mask") { y in y[mask] = 0.5 }                                        // y[mask] = 0.5
        try run("set_ids") { y in y[ids] = -2 }                                           // y[ids] = -2
        try run("set_point") { y in y[1, 2, 3] = 1000 }                                   // y[1, 2, 3] = 1000
        try run("set_step") { y in y[.slice(step: 2), 0] = try Tensor.arange(5, dtype: .float32) }  // y[::2, 0] = arange(5.)
        try run("set_neg") { y in y[-1, -1] = 9.25 }                                      // y[-1, -1] = 9.25
        try run("set_inner") { y in y[.slice(1, -1), .slice(1, -1), .slice(1, -1)] = 7 }  // y[1:-1, 1:-1, 1:-1] = 7
        try run("set_none") { y in y[.newAxis, 0, 0] = 3 }                                // y[None, 0, 0] = 3
        try run("set_pair") { y in                                                        // y[ids2[1], ids2[0]] = ...
            y[ids2[1], ids2[0]] = try Tensor([11, 22, 33, 44, 55] as [Float])
        }
        // The throwing form.
        let y = try x.clone()
        try y.indexPut([.ellipsis, -1], -1)
        try expectMatches(y, c.output("set_ellipsis"), "indexPut")
    }

    @Test func settersConvertDtype() throws {
        let c = fixture["set_convert"]
        let x = try c.input("x")
        let y = try x.clone(), z = try x.clone()
        try TorchErrorSink.collect {
            y[1] = 2.7                                    // a float into int64 truncates
            z[.all, -1] = try Tensor([true, false, true])
        }
        try expectMatches(y, c.output("float_into_int"), "float into int")
        try expectMatches(z, c.output("bool_into_int"), "bool into int")
    }

    @Test func subscriptWritesReachEveryHolder() throws {
        let x = try Tensor.zeros([2, 3])
        let alias = x
        let view = try x.transpose(0, 1)
        let row = x[1]
        x[0, 1] = 5
        row[.all] = 2                   // through a view
        view[2, 0] = -1                 // through a transposed view
        #expect(try alias.toArray(Float.self) == [0, 5, -1, 2, 2, 2])
        #expect(try view.toArray(Float.self) == [0, 2, 5, 2, -1, 2])
        let copy = try x.clone()
        copy[0] = 9
        #expect(try x.toArray(Float.self) == [0, 5, -1, 2, 2, 2])
    }
}
