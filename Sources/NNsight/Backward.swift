import NNsightTorch

/// Access to gradients during a backward pass: `grad(of:)` waits until autograd computes the
/// gradient flowing into a tensor taken earlier, `setGrad(of:_:)` replaces it (the change flows
/// into earlier gradients). Gradients arrive in reverse order of the forward pass: ask for later
/// tensors first. Python: the body of `with loss.backward():`.
public final class Gradients {
    fileprivate enum Request {
        case read(Tensor)
        case write(Tensor, Tensor)
    }

    fileprivate enum Event {
        case request(Request)
        case finished
        case failed(any Error)
    }

    fileprivate let worker: Worker
    fileprivate var event: Event = .finished
    fileprivate var answer: Result<Tensor?, any Error> = .success(nil)
    fileprivate var hooks: [GradHook] = []
    fileprivate var hooked = Set<ObjectIdentifier>()
    fileprivate let sink = TorchErrorSink()

    fileprivate init(worker: Worker) {
        self.worker = worker
    }

    /// The gradient flowing into `tensor`. Python: `tensor.grad` inside the backward block.
    public func grad(of tensor: Tensor) throws -> Tensor {
        try send(.read(tensor))!
    }

    /// Replaces the gradient flowing into `tensor`. Python: `tensor.grad = value`.
    public func setGrad(of tensor: Tensor, _ value: Tensor) throws {
        _ = try send(.write(tensor, value))
    }

    private func send(_ request: Request) throws -> Tensor? {
        if let error = sink.firstError { sink.clear(); throw error }
        let tensor: Tensor
        switch request {
        case .read(let target), .write(let target, _): tensor = target
        }
        if hooked.insert(ObjectIdentifier(tensor)).inserted {
            hooks.append(try tensor.registerHook { [unowned self] gradient in try self.serve(tensor, gradient) })
        }
        event = .request(request)
        worker.baton.handOff(from: .worker, to: .model)
        return try answer.get()
    }

    /// Runs on the backward pass's thread when autograd reaches `tensor`.
    fileprivate func serve(_ tensor: Tensor, _ gradient: Tensor) throws -> Tensor? {
        var current = gradient
        var replaced = false
        while case .request(let request) = event {
            switch request {
            case .read(let target) where target === tensor:
                answer = .success(current)
            case .write(let target, let value) where target === tensor:
                current = value
                replaced = true
                answer = .success(nil)
            default:
                return replaced ? current : nil
            }
            worker.baton.handOff(from: .model, to: .worker)
            if case .failed(let error) = event { throw error }
        }
        return replaced ? current : nil
    }

    fileprivate func run(_ body: () throws -> Void) {
        do {
            try sink.installed(body)
            if let error = sink.firstError { throw error }
            event = .finished
        } catch {
            event = .failed(error)
        }
    }
}

extension Tensor {
    /// Runs the backward pass from this tensor while `body` reads and replaces gradients of
    /// tensors taken earlier (in a trace or kept from one). Python: `with loss.backward(): ...`.
    ///
    /// ```swift
    /// try model.trace(prompt) { m in
    ///     let hidden = try m.transformer.h[-1].output.requiresGrad_()
    ///     let loss = try m.lm_head.output.sum()
    ///     try loss.backward { g in
    ///         let gradient = try g.grad(of: hidden)
    ///         try g.setGrad(of: hidden, gradient * 2)
    ///     }
    /// }
    /// ```
    @discardableResult
    public func backward<T>(gradient: Tensor? = nil, retainGraph: Bool = false,
                            _ body: (Gradients) throws -> T) throws -> T {
        if let remote = RemoteEnvoyAccessScope.current {
            // A remote trace's values are copies: no autograd graph links them to the server's.
            throw remote.unavailable("backward and gradients through the server's tensors")
        }
        return try withoutActuallyEscaping(body) { body in
            let worker = WorkerPool.shared.acquire()
            defer { WorkerPool.shared.release(worker) }
            let gradients = Gradients(worker: worker)
            defer { for hook in gradients.hooks { try? hook.remove() } }
            var result: T?
            worker.start { gradients.run { result = try body(gradients) } }
            if case .failed(let error) = gradients.event { throw error }
            do {
                try self.backward(gradient: gradient, retainGraph: retainGraph)
            } catch let error as TorchError where error.kind == .hookFailed {
                try gradients.cancel()
                throw error.underlying ?? error
            } catch {
                try gradients.cancel()
                throw error
            }
            try gradients.finish()
            return result!
        }
    }
}

extension Gradients {
    /// After the pass: a request still waiting was for a gradient that never came (asked out of
    /// order, or for a tensor the loss does not depend on).
    fileprivate func finish() throws {
        while case .request(let request) = event {
            let tensor: Tensor
            switch request {
            case .read(let target), .write(let target, _): tensor = target
            }
            answer = .failure(NNsightError.missed(requester: "gradient of a tensor of shape \(tensor.shape)"))
            worker.baton.handOff(from: .model, to: .worker)
        }
        if case .failed(let error) = event { throw error }
    }

    /// Unwinds a body still waiting after the pass failed.
    fileprivate func cancel() throws {
        while case .request = event {
            answer = .failure(NNsightError.cancelled)
            worker.baton.handOff(from: .model, to: .worker)
        }
    }
}
