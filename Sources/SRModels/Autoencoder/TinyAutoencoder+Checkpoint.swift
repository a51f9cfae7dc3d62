import Foundation
import SRCheckpoint
import SRNN
import SRTensor

extension TinyAutoencoder {
    /// Loads TAESD's released pair of state dicts (`taef2_encoder.pth`, `taef2_decoder.pth`: PyTorch
    /// zip pickles, fp16) into a tiny autoencoder without fusion layers, or into the encoder and the
    /// decoder's own layers of one with them (`strict` then leaves the fusion layers as they are).
    /// Read with the project's safe pickle reader: nothing in the files is executed.
    /// - Throws: `CheckpointError` for unreadable files; `ParameterUpdateError` naming every
    ///   missing, unexpected or mismatched key (prefixed `encoder.` / `decoder.`).
    public func loadPyTorch(encoder encoderPath: String, decoder decoderPath: String) throws {
        var tensors: [String: Tensor] = [:]
        for (path, prefix) in [(encoderPath, "encoder."), (decoderPath, "decoder.")] {
            for (key, tensor) in try PyTorchCheckpoint.stateDictionary(contentsOfFile: path) {
                tensors[prefix + key] = PyTorchLayout.imported(tensor)
            }
        }
        var expected = Set(parameterDictionary().keys)
        if hasFusion { expected = expected.filter { !$0.contains(".fusion_layer_") } }
        let problems = ParameterUpdateError(missing: expected.subtracting(tensors.keys).sorted(),
                                            unexpected: Set(tensors.keys).subtracting(expected).sorted(), mismatched: [])
        guard problems.isEmpty else { throw problems }
        try update(parameters: tensors, strict: false)
    }
}
