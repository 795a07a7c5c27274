import Foundation
import NNsightTorch

/// What arrives for one waiting party: a message (with its tensor for a binary frame), or the
/// end of the conversation with the error that ended it.
// @unchecked: a Tensor is not Sendable; each delivery goes to exactly one waiting thread, and the
// network task that made it never touches its tensor again.
package enum Delivery: @unchecked Sendable {
    case message(WireMessage, Tensor?)
    case closed(any Error)
}

/// A queue that one thread waits on while others deliver into it: the network hands messages
/// to the thread running an invoke (client or server) without any async hop.
// @unchecked: every field is read and written only with `condition` held (NSCondition, which
// ThreadSanitizer sees, rather than a Mutex: puts and takes contend).
package final class Mailbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Delivery] = []
    private var head = 0

    package init() {}

    package func put(_ delivery: Delivery) {
        condition.lock()
        items.append(delivery)
        condition.signal()
        condition.unlock()
    }

    /// The next delivery, or nil if none came before `deadline`.
    package func take(before deadline: Date = .distantFuture) -> Delivery? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count {
            if deadline == .distantFuture {
                condition.wait()
            } else if !condition.wait(until: deadline) && head == items.count {
                return nil
            }
        }
        let delivery = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
        return delivery
    }
}
