import NNsightTorch

/// A module's value that two or more invokes wait at, offered before the first of them is
/// served: the rows of it that each invoke waiting to read it will see.
///
/// The remote server uses it to send every waiting client its value at once and only then wait
/// for their answers, one client after another in invoke order (a client's rows are its own, so
/// what an earlier invoke of another client does at this call cannot change them). Called on the
/// model's thread while every worker waits; the values are the model's live tensors, valid only
/// during the call.
package struct ValueReached {
    /// The module (or `.source` operation) whose value it is.
    package let envoy: Envoy
    /// `.output` or `.input`.
    package let key: ValueKey
    /// Which call of the module, counted as requests count them.
    package let occurrence: Int
    /// The invokes waiting to read this value, in service order: each invoke's position in the
    /// run (``RunningInvoke/order``) and its rows of the value.
    package let readers: [(order: Int, value: Tensor)]
}

/// A generation step that two or more invokes wait to begin (`tracer.iter`), offered before the
/// first of them is served: the remote server acknowledges every waiting client at once, so
/// their round trips overlap. Called on the model's thread while every worker waits.
package struct StepReached {
    /// The step that begins.
    package let step: Int
    /// The invokes waiting for it, in service order (their ``RunningInvoke/order``).
    package let waiting: [Int]
}

/// The invoke whose closure runs on this thread.
package enum RunningInvoke {
    /// Its position among the run's invokes (the order they are served in), or nil outside an
    /// invoke.
    package static var order: Int? { Mediator.current?.order }
}
