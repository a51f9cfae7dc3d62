import Foundation
import SRTensor

/// A restricted unpickler for PyTorch checkpoints.
///
/// It interprets the pickle opcodes that `torch.save` emits (protocols 2–5) but builds only data:
/// numbers, strings, bytes, tuples, lists, dictionaries (including `collections.OrderedDict`) and
/// tensors (`torch._utils._rebuild_tensor_v2`, `_rebuild_parameter`). Every other global —
/// `os.system`, `builtins.eval`, any class — is refused with `CheckpointError.forbiddenGlobal`
/// naming it, before anything could run: no Python code is ever executed.
struct Unpickler {
    /// Globals that may appear, and what they become.
    static let allowedGlobals: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "torch.Size",
        "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.DoubleStorage",
        "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage",
        "torch.ByteStorage", "torch.BoolStorage",
    ]

    let bytes: [UInt8]
    let path: String
    /// Returns the Float32 elements of a storage (already converted), given its reference.
    let loadStorage: (StorageReference) throws -> [Float]
    /// Tensors become `.tensorReference` without reading their storage.
    var defersTensors = false
    private var position = 0
    private var stack: [PickleValue] = []
    private var memo: [Int: PickleValue] = [:]
    private var storageCache: [String: [Float]] = [:]

    init(bytes: [UInt8], path: String, loadStorage: @escaping (StorageReference) throws -> [Float]) {
        self.bytes = bytes
        self.path = path
        self.loadStorage = loadStorage
    }

    private func fail(_ reason: String) -> CheckpointError { .invalidPickle(path: path, reason: reason) }

    private mutating func read(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, position + n <= bytes.count else { throw fail("unexpected end of the pickle at byte \(position)") }
        defer { position += n }
        return bytes[position..<(position + n)]
    }
    private mutating func byte() throws -> UInt8 { try read(1).first! }
    private mutating func uint(_ n: Int) throws -> Int {
        var value = 0
        for (i, b) in try read(n).enumerated() { value |= Int(b) << (8 * i) }
        return value
    }
    private mutating func line() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("unterminated text line") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }
    private mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("stack underflow at byte \(position)") }
        return v
    }
    private mutating func popToMark() throws -> [PickleValue] {
        guard let mark = stack.lastIndex(where: { if case .mark = $0 { return true }; return false }) else {
            throw fail("no MARK on the stack at byte \(position)")
        }
        let items = Array(stack[(mark + 1)...])
        stack.removeSubrange(mark...)
        return items
    }

    private func global(_ module: String, _ name: String) throws -> PickleValue {
        let full = module + "." + name
        guard Unpickler.allowedGlobals.contains(full) else { throw CheckpointError.forbiddenGlobal(path: path, name: full) }
        return .global(module: module, name: name)
    }

    /// Runs the pickle to its STOP opcode and returns the result; `position` is left after it.
    mutating func load(from start: Int = 0) throws -> (value: PickleValue, end: Int) {
        position = start
        stack = []
        memo = [:]
        while true {
            let opcode = try byte()
            switch opcode {
            case 0x80: _ = try byte()                                  // PROTO
            case 0x95: _ = try read(8)                                 // FRAME
            case 0x2E: return (try pop(), position)                   // STOP
            case 0x28: stack.append(.mark)                             // MARK
            case 0x4E: stack.append(.none)                             // NONE
            case 0x88: stack.append(.bool(true))                       // NEWTRUE
            case 0x89: stack.append(.bool(false))                      // NEWFALSE
            case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))   // BININT
            case 0x4B: stack.append(.int(try uint(1)))                 // BININT1
            case 0x4D: stack.append(.int(try uint(2)))                 // BININT2
            case 0x8A:                                                 // LONG1
                let n = try uint(1)
                let digits = try read(n)
                guard n <= 8 else { stack.append(.bigInteger(Array(digits))); break }
                var value: Int64 = 0
                for (i, b) in digits.enumerated() { value |= Int64(b) << (8 * Int64(i)) }
                if n > 0 && n < 8 && digits.last! & 0x80 != 0 { value -= Int64(1) << (8 * Int64(n)) }
                stack.append(.int(Int(value)))
            case 0x49:                                                 // INT (text)
                let text = try line()
                if text == "00" { stack.append(.bool(false)) } else if text == "01" { stack.append(.bool(true)) } else {
                    guard let v = Int(text) else { throw fail("bad INT \(text)") }
                    stack.append(.int(v))
                }
            case 0x4C:                                                 // LONG (text)
                let text = try line()
                guard let v = Int(text.hasSuffix("L") ? String(text.dropLast()) : text) else { throw fail("bad LONG \(text)") }
                stack.append(.int(v))
            case 0x47:                                                 // BINFLOAT (big endian)
                var bits: UInt64 = 0
                for b in try read(8) { bits = bits << 8 | UInt64(b) }
                stack.append(.float(Double(bitPattern: bits)))
            case 0x46:                                                 // FLOAT (text)
                guard let v = Double(try line()) else { throw fail("bad FLOAT") }
                stack.append(.float(v))
            case 0x58: stack.append(.string(String(decoding: try read(try uint(4)), as: UTF8.self)))   // BINUNICODE
            case 0x8C: stack.append(.string(String(decoding: try read(try uint(1)), as: UTF8.self)))   // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(String(decoding: try read(try uint(8)), as: UTF8.self)))   // BINUNICODE8
            case 0x54: stack.append(.string(String(decoding: try read(try uint(4)), as: UTF8.self)))   // BINSTRING
            case 0x55: stack.append(.string(String(decoding: try read(try uint(1)), as: UTF8.self)))   // SHORT_BINSTRING
            case 0x42: stack.append(.bytes(Array(try read(try uint(4)))))                              // BINBYTES
            case 0x43: stack.append(.bytes(Array(try read(try uint(1)))))                              // SHORT_BINBYTES
            case 0x8E: stack.append(.bytes(Array(try read(try uint(8)))))                              // BINBYTES8
            case 0x29: stack.append(.tuple([]))                                                        // EMPTY_TUPLE
            case 0x74: stack.append(.tuple(try popToMark()))                                           // TUPLE
            case 0x85: stack.append(.tuple([try pop()]))                                               // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))                  // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c])) // TUPLE3
            case 0x5D: stack.append(.list(PickleList()))                                               // EMPTY_LIST
            case 0x6C: stack.append(.list(PickleList(try popToMark())))                                // LIST
            case 0x7D: stack.append(.dictionary(PickleDictionary()))                                   // EMPTY_DICT
            case 0x64:                                                                                 // DICT
                let items = try popToMark()
                let d = PickleDictionary()
                for i in stride(from: 0, to: items.count - 1, by: 2) { d.set(items[i], items[i + 1]) }
                stack.append(.dictionary(d))
            case 0x61:                                                                                 // APPEND
                let v = try pop()
                guard case .list(let list) = stack.last else { throw fail("APPEND to a non-list") }
                list.items.append(v)
            case 0x65:                                                                                 // APPENDS
                let items = try popToMark()
                guard case .list(let list) = stack.last else { throw fail("APPENDS to a non-list") }
                list.items += items
            case 0x73:                                                                                 // SETITEM
                let v = try pop(), k = try pop()
                guard case .dictionary(let d) = stack.last else { throw fail("SETITEM on a non-dict") }
                d.set(k, v)
            case 0x75:                                                                                 // SETITEMS
                let items = try popToMark()
                guard case .dictionary(let d) = stack.last else { throw fail("SETITEMS on a non-dict") }
                for i in stride(from: 0, to: items.count - 1, by: 2) { d.set(items[i], items[i + 1]) }
            case 0x71: memo[try uint(1)] = stack.last                                                  // BINPUT
            case 0x72: memo[try uint(4)] = stack.last                                                  // LONG_BINPUT
            case 0x94: memo[memo.count] = stack.last                                                   // MEMOIZE
            case 0x68, 0x6A:                                                                           // BINGET, LONG_BINGET
                let index = try uint(opcode == 0x68 ? 1 : 4)
                guard let v = memo[index] else { throw fail("memo \(index) is empty") }
                stack.append(v)
            case 0x30: _ = try pop()                                                                   // POP
            case 0x31: _ = try popToMark()                                                             // POP_MARK
            case 0x32: guard let top = stack.last else { throw fail("DUP on an empty stack") }; stack.append(top)   // DUP
            case 0x63:                                                                                 // GLOBAL
                let module = try line(), name = try line()
                stack.append(try global(module, name))
            case 0x93:                                                                                 // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard case .string(let m) = module, case .string(let n) = name else { throw fail("STACK_GLOBAL needs strings") }
                stack.append(try global(m, n))
            case 0x51:                                                                                 // BINPERSID
                stack.append(try persistent(try pop()))
            case 0x52:                                                                                 // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try reduce(callable, args))
            case 0x81:                                                                                 // NEWOBJ
                let args = try pop(), cls = try pop()
                stack.append(try reduce(cls, args))
            case 0x62:                                                                                 // BUILD
                _ = try pop()   // state of an OrderedDict subclass (e.g. `_metadata`): not needed
            default:
                throw fail(String(format: "unsupported pickle opcode 0x%02X at byte %d", opcode, position - 1))
            }
        }
    }

    private func persistent(_ id: PickleValue) throws -> PickleValue {
        guard case .tuple(let fields) = id, fields.count >= 5, case .string("storage") = fields[0],
              case .global(_, let typeName) = fields[1] else {
            throw fail("unsupported persistent id \(id)")
        }
        let key: String
        switch fields[2] {
        case .string(let s): key = s
        case .int(let i): key = String(i)
        default: throw fail("bad storage key \(fields[2])")
        }
        guard case .int(let count) = fields[4] else { throw fail("bad storage size \(fields[4])") }
        return .storage(StorageReference(typeName: typeName, key: key, elementCount: count))
    }

    private mutating func reduce(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case .global(let module, let name) = callable else { throw fail("REDUCE on a non-callable \(callable)") }
        guard case .tuple(let a) = args else { throw fail("REDUCE arguments are not a tuple") }
        switch module + "." + name {
        case "collections.OrderedDict":
            return .dictionary(PickleDictionary())
        case "torch.Size":
            return a.first ?? .tuple([])
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let data = a.first else { throw fail("_rebuild_parameter without data") }
            return data
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
            guard a.count >= 4, case .storage(let storage) = a[0], case .int(let offset) = a[1],
                  case .tuple(let sizeValues) = a[2], case .tuple(let strideValues) = a[3] else {
                throw fail("malformed _rebuild_tensor arguments")
            }
            let size = try sizeValues.map { v -> Int in guard case .int(let i) = v else { throw fail("bad size") }; return i }
            let strides = try strideValues.map { v -> Int in guard case .int(let i) = v else { throw fail("bad stride") }; return i }
            guard size.count == strides.count else { throw fail("size and stride ranks differ") }
            if defersTensors { return .tensorReference(TensorReference(storage: storage, offset: offset, shape: size, strides: strides)) }
            let elements: [Float]
            if let cached = storageCache[storage.key] { elements = cached } else {
                elements = try loadStorage(storage)
                storageCache[storage.key] = elements
            }
            return .tensor(try PyTorchCheckpoint.gather(elements, offset: offset, size: size, strides: strides, path: path))
        default:
            throw CheckpointError.forbiddenGlobal(path: path, name: module + "." + name)
        }
    }
}
