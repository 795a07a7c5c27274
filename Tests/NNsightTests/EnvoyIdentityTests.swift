import Testing
import NNsightTorch
@testable import NNsight

/// An envoy kept past its model belongs to no later trace: trees are told apart by an identity
/// that is never reused, not by an address that the allocator hands out again.
struct EnvoyIdentityTests {
    @Test func testEnvoyKeptPastItsModelIsRejectedByALaterTree() throws {
        let net = try makeTiny().module
        var stale: Envoy!
        var freedAddress: ObjectIdentifier!
        do {
            let first = NNsightModel(net)
            stale = try first.root.layer2
            freedAddress = ObjectIdentifier(first.envoys)
        }
        #expect(stale.tree == nil)
        // A later wrapper of the same module: the allocator gives its tree the freed tree's address
        // (at once, on this machine), which an address-based identity took for the old tree.
        var later = NNsightModel(net)
        var attempts = 0
        while ObjectIdentifier(later.envoys) != freedAddress && attempts < 100 {
            later = NNsightModel(net)
            attempts += 1
        }
        let x = try Tensor.rand([1, 5])
        #expect(throws: NNsightError.outsideInterleaving(requester: "model.layer2.output", action: "access")) {
            try later.trace(x) { _ in try stale.output }
        }
        #expect(throws: NNsightError.outsideInterleaving(requester: "model.layer2.skip", action: "skip")) {
            try later.trace(x) { _ in try stale.skip(x) }
        }
        // The stale envoy still names its module, and the later model runs unharmed.
        #expect(stale.path == "model.layer2")
        let output = try later.trace(x) { m in try m.layer2.output }
        #expect(try output.equal(try net(x)))
    }

    @Test func testTreeIdentitiesAreNeverReused() throws {
        var seen = Set<UInt64>()
        for _ in 0..<50 {
            let model = try makeTiny()
            #expect(seen.insert(model.envoys.identity).inserted)
            #expect(try model.root.layer1.treeIdentity == model.envoys.identity)
        }
    }
}
