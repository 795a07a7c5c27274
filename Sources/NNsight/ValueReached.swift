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

/// The invoke whose closure runs on this thread.
package enum RunningInvoke {
    /// Its position among the run's invokes (the order they are served in), or nil outside an
    /// invoke.
    package static var order: Int? { Mediator.current?.order }
}
