// The umbrella module: `import DiffusionSR` brings in every library target.
@_exported import SRSupport
@_exported import SRTensor
@_exported import SRNN
@_exported import SRCheckpoint
@_exported import SRModels
@_exported import SRDiffusion
@_exported import SRImage
@_exported import SRDegradation
@_exported import SRMetrics
@_exported import SRTraining
@_exported import SRBenchmark
@_exported import SRPipelines
