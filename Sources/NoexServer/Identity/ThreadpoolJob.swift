import CUV

/// One piece of CPU work (password hashing) on libuv's threadpool, its completion back on the
/// loop thread. The worker runs only `work`, which touches nothing but what it captured; libuv's
/// queue orders that against the loop thread's completion, so no lock is needed. The job keeps
/// itself alive until its completion ran.
final class ThreadpoolJob {
    private let work: () -> Void
    private var done: (() -> Void)?
    private let req = UnsafeMutablePointer<uv_work_t>.allocate(capacity: 1)

    private init(work: @escaping () -> Void, done: @escaping () -> Void) {
        self.work = work
        self.done = done
    }

    /// Runs `work` on the threadpool of `loop` and then `done` with its result on the loop
    /// thread. Without a loop (the core driven by a test transport) both run here, in order.
    static func run<T>(on loop: UnsafeMutablePointer<uv_loop_t>?, _ work: @escaping () -> T, done: @escaping (T) -> Void) {
        let slot = ResultSlot<T>()
        let job = ThreadpoolJob(work: { slot.value = work() }, done: { done(slot.value!) })
        guard let loop else {
            job.work()
            job.finish()
            return
        }
        job.start(loop)
    }

    private func start(_ loop: UnsafeMutablePointer<uv_loop_t>) {
        req.pointee.data = Unmanaged.passRetained(self).toOpaque()
        let rc = uv_queue_work(loop, req, { r in
            Unmanaged<ThreadpoolJob>.fromOpaque(r!.pointee.data).takeUnretainedValue().work()
        }, { r, _ in
            Unmanaged<ThreadpoolJob>.fromOpaque(r!.pointee.data).takeRetainedValue().finish()
        })
        if rc != 0 {
            // Only for an invalid request; run it here rather than lose the answer.
            Unmanaged.passUnretained(self).release()
            work()
            finish()
        }
    }

    private func finish() {
        req.deallocate()
        let d = done
        done = nil
        d?()
    }
}

/// Where a worker leaves its result for the loop thread.
private final class ResultSlot<T> {
    var value: T?
}
