import Foundation
import _CDNNL

/// The oneDNN (v2.6 C API) engine, stream and helpers. The only place (with `BLAS`) that calls a
/// kernel library. Every status is checked outside of assertions (`-Ounchecked` would delete a
/// call made inside one).
enum OneDNN {
    /// A fatal oneDNN failure: a programming error (bad descriptor), not a user error.
    static func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
        if status != dnnl_success { fatalError("oneDNN: \(what()) failed with status \(status.rawValue)") }
    }

    final class Context: @unchecked Sendable {
        let engine: dnnl_engine_t
        let stream: dnnl_stream_t
        /// Serializes primitive execution on the single stream.
        let lock = NSLock()

        init() {
            var engine: dnnl_engine_t?
            OneDNN.check(dnnl_engine_create(&engine, dnnl_cpu, 0), "engine creation")
            var stream: dnnl_stream_t?
            OneDNN.check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "stream creation")
            self.engine = engine!
            self.stream = stream!
        }
    }

    static let context = Context()


    /// A memory descriptor for dims (logical oneDNN order) in a given format tag.
    static func descriptor(_ dims: [Int], _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        var d = dims.map { Int64($0) }
        check(dnnl_memory_desc_init_by_tag(&md, Int32(d.count), &d, dnnl_f32, tag), "memory descriptor \(dims)")
        return md
    }

    /// Wraps caller memory (not owned) in a oneDNN memory object.
    static func memory(_ md: dnnl_memory_desc_t, _ pointer: UnsafeMutablePointer<Float>) -> dnnl_memory_t {
        var m: dnnl_memory_t?
        var md = md
        check(dnnl_memory_create(&m, &md, context.engine, UnsafeMutableRawPointer(pointer)), "memory wrap")
        return m!
    }

    /// Executes a primitive with (argument, memory) pairs and waits for it.
    static func execute(_ primitive: dnnl_primitive_t, _ arguments: [(Int32, dnnl_memory_t)]) {
        var args = arguments.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1) }
        context.lock.lock()
        defer { context.lock.unlock() }
        check(dnnl_primitive_execute(primitive, context.stream, Int32(args.count), &args), "execute")
        check(dnnl_stream_wait(context.stream), "stream wait")
    }

    /// Whether two descriptors describe the same layout.
    static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var a = a, b = b
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    /// Bytes a descriptor needs.
    static func size(_ md: dnnl_memory_desc_t) -> Int {
        var md = md
        return dnnl_memory_desc_get_size(&md)
    }

    /// A reorder primitive between two layouts.
    final class Reorder: @unchecked Sendable {
        let primitive: dnnl_primitive_t
        init(from source: dnnl_memory_desc_t, to destination: dnnl_memory_desc_t) {
            var source = source, destination = destination
            var pd: dnnl_primitive_desc_t?
            OneDNN.check(dnnl_reorder_primitive_desc_create(&pd, &source, OneDNN.context.engine, &destination,
                                                           OneDNN.context.engine, nil), "reorder descriptor")
            var p: dnnl_primitive_t?
            OneDNN.check(dnnl_primitive_create(&p, pd), "reorder primitive")
            dnnl_primitive_desc_destroy(pd)
            primitive = p!
        }
        deinit { dnnl_primitive_destroy(primitive) }

        func run(_ from: dnnl_memory_t, _ to: dnnl_memory_t) {
            OneDNN.execute(primitive, [(DNNL_ARG_FROM, from), (DNNL_ARG_TO, to)])
        }
    }

    /// Weights reordered into a primitive's layout, kept beside the weight tensor's storage (see
    /// `TensorStorage.derivedValue`): recomputed only when the weights change.
    final class ReorderedBuffer: SizedDerivedValue, @unchecked Sendable {
        private let block: AlignedBlock
        var byteCount: Int { Swift.max(OneDNN.size(md), 64) }
        let md: dnnl_memory_desc_t
        var pointer: UnsafeMutableRawPointer { block.pointer }
        init(md: dnnl_memory_desc_t) {
            self.md = md
            block = AlignedBlock(byteCount: max(OneDNN.size(md), 64))
        }
        deinit { block.release() }
        var floats: UnsafeMutablePointer<Float> { pointer.bindMemory(to: Float.self, capacity: OneDNN.size(md) / 4) }
    }
}
