import Foundation
import NNsight
import NNsightRemote
import NNsightServer
import NNsightTorch
import Testing

/// The batch window restarts at each arrival: clients whose traces come one after another, each
/// within a window of the one before, share one forward even when the last comes more than a
/// window after the first.
struct BatchWindowTests {
    static let rows = [[64, 139, 286, 481], [64, 189, 286, 262], [496, 11, 116, 438]]

    @Test func tracesEachWithinAWindowOfTheLastShareOneForward() async throws {
        let local = try Fixtures.localModel()
        let expected = try Self.rows.map { ids in try local.trace(ids) { m in try m.lm_head.output } }
        var configuration = ServerConfiguration()
        configuration.batchWindow = .seconds(4)
        configuration.maxBatchWait = .seconds(60)
        let queued = (0..<3).map { _ in DispatchSemaphore(value: 0) }
        let (results, stats) = try await clientsTogether(3, on: configuration) { remote, index in
            // Client i sends its trace 0.6 windows after client i - 1's was queued: the last
            // arrives more than a window (1.2 of them) after the first. (Long windows: on a
            // busy machine a message may take a while between a client and the scheduler.)
            if index > 0 {
                queued[index - 1].wait()
                Thread.sleep(forTimeInterval: 2.4)
            }
            remote.onStatus = { event in if event.kind == .status, event.state == .queued { queued[index].signal() } }
            return UncheckedTensor(try remote.trace(Self.rows[index]) { m in try m.lm_head.output })
        }
        for (index, result) in results.enumerated() {
            #expect(try maxAbsDifference(try result.get().tensor, expected[index]) < 1e-4, "client \(index)")
        }
        #expect(stats.forwards == 1)
        #expect(stats.largestBatch == 3)
    }
}
