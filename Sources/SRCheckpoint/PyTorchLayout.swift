import SRTensor

/// The one conversion this project makes to PyTorch weights at import: PyTorch lays convolution
/// weights out as OIHW and this engine, whose activations are NHWC, as OHWI.
public enum PyTorchLayout {
    /// A PyTorch parameter in this project's layout: a 4-D convolution weight `[O, I, kh, kw]` →
    /// `[O, kh, kw, I]`; a 1×1 `Conv1d` weight `[O, I, 1]` → `[O, I]` (held as a Linear weight);
    /// anything else unchanged.
    public static func imported(_ tensor: Tensor) -> Tensor {
        tensor.rank == 4 ? tensor.permuted([0, 2, 3, 1]) : tensor.reshaped(to: importedShape(tensor.shape))
    }

    /// The shape `imported` gives a PyTorch tensor of `shape` (checked before any data is read).
    public static func importedShape(_ shape: [Int]) -> [Int] {
        switch shape.count {
        case 4: return [shape[0], shape[2], shape[3], shape[1]]
        case 3 where shape[2] == 1: return [shape[0], shape[1]]
        default: return shape
        }
    }

    /// The tensors of a state dict whose keys start with `prefix`, the prefix removed and each
    /// tensor `imported`; keys in `excluded` (after the prefix is removed) are left out.
    public static func importedStateDictionary(_ state: [String: Tensor], prefix: String = "",
                                               excluding excluded: Set<String> = []) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (key, tensor) in state where key.hasPrefix(prefix) {
            let name = String(key.dropFirst(prefix.count))
            if excluded.contains(name) { continue }
            out[name] = imported(tensor)
        }
        return out
    }
}
