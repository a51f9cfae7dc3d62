"""Import BasicSR 1.4.2's reference functions straight from its sdist, without running the
package's __init__ (which pulls in every model, lmdb, tensorboard, ...)."""
import importlib.util
import os
import subprocess
import sys
import tarfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SHA = "b89b595a87ef964cda9913b4d99380ddb6554c965577c0c10cb7b78e31301e87"


def sdist_root(cache=os.path.join(ROOT, ".cache", "basicsr")):
    target = os.path.join(cache, "basicsr-1.4.2")
    if not os.path.isfile(os.path.join(target, "basicsr", "data", "degradations.py")):
        path = subprocess.check_output([sys.executable, os.path.join(ROOT, "Tools", "pypi_sdist.py"),
                                        "basicsr", "1.4.2", SHA, cache], text=True).strip()
        with tarfile.open(path) as tar:
            tar.extractall(cache, filter="data")
    return target


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load():
    root = os.path.join(sdist_root(), "basicsr")
    for package in ("basicsr", "basicsr.utils", "basicsr.metrics"):
        module = types.ModuleType(package)
        module.__path__ = [os.path.join(root, *package.split(".")[1:])]
        sys.modules[package] = module
    color = _load("basicsr.utils.color_util", os.path.join(root, "utils", "color_util.py"))
    sys.modules["basicsr.utils"].bgr2ycbcr = color.bgr2ycbcr
    _load("basicsr.utils.registry", os.path.join(root, "utils", "registry.py"))
    matlab = _load("basicsr.utils.matlab_functions", os.path.join(root, "utils", "matlab_functions.py"))
    metric_util = _load("basicsr.metrics.metric_util", os.path.join(root, "metrics", "metric_util.py"))
    psnr_ssim = _load("basicsr.metrics.psnr_ssim", os.path.join(root, "metrics", "psnr_ssim.py"))
    niqe = _load("basicsr.metrics.niqe", os.path.join(root, "metrics", "niqe.py"))
    return types.SimpleNamespace(color=color, matlab=matlab, metric_util=metric_util, psnr_ssim=psnr_ssim,
                                 niqe=niqe, niqe_params=os.path.join(root, "metrics", "niqe_pris_params.npz"))
