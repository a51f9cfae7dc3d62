import Foundation
import SRCheckpoint
import SRNN
import SRTensor

/// Loading SR3 weights from the reference's checkpoints and from this project's safetensors.
public enum SR3Checkpoint {
    /// The reference's diffusion-schedule buffers, saved beside the network in `*_gen.pth`.
    static let scheduleBuffers: Set<String> = [
        "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
        "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_variance",
        "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2",
    ]

    /// The network tensors of a PyTorch state dict in this project's layout: the `denoise_fn.`
    /// prefix removed, schedule buffers dropped, convolution weights converted OIHW → OHWI (`PyTorchLayout`).
    public static func importPyTorch(_ state: [String: Tensor]) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (key, tensor) in state {
            let name = key.hasPrefix("denoise_fn.") ? String(key.dropFirst("denoise_fn.".count)) : key
            if scheduleBuffers.contains(name) { continue }
            out[name] = PyTorchLayout.imported(tensor)
        }
        return out
    }

    /// Loads a reference `*_gen.pth` (or any state dict of the reference U-Net) into `model`.
    /// - Throws: `CheckpointError` for unreadable files, `ParameterUpdateError` listing every
    ///   missing, unexpected or mismatched key.
    public static func loadPyTorch(contentsOfFile path: String, into model: SR3UNet) throws {
        try model.update(parameters: importPyTorch(try PyTorchCheckpoint.stateDictionary(contentsOfFile: path)))
    }
}
