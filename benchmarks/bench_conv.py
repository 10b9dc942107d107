"""The Inception network's convolutions one by one: oneDNN (channels-last, as diffsched's extractor runs them)
against torch's bundled NNPACK (Winograd F(6x6, 3x3) and FFT convolutions, stride 1, NCHW), which also runs on
AVX2 hosts where oneDNN has no Winograd:

    PYTHONPATH=src python benchmarks/bench_conv.py [--batch 64] [--repeats 3]

Every distinct convolution shape of torch-fidelity's InceptionV3 (found with forward hooks on a 32x32 input,
which the network resizes to 299x299) is timed at ``--batch`` images with both, medians of ``--repeats``; NNPACK's
error is the largest deviation from a float64 convolution relative to the largest output. The last line adds up
the network's convolution time with oneDNN alone and with the faster of the two per layer: what NNPACK could
give the extractor at most (layout conversions not counted).
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from functools import partial

import torch
import torch.nn.functional as F
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
from timing import median_seconds

from diffsched.metrics import inception_weights


def conv_shapes(weights: str) -> Counter:
    """(in, out, kernel, stride, padding, input size, output size) -> how many layers of the network have it."""
    model = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=weights)
    shapes = Counter()

    def record(conv, inputs, output):
        shapes[(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                tuple(inputs[0].shape[2:]), tuple(output.shape[2:]))] += 1
    for conv in (m for m in model.modules() if isinstance(m, torch.nn.Conv2d)):
        conv.register_forward_hook(record)
    with torch.no_grad():
        model(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))
    return shapes


def measure(cin, cout, kernel, stride, padding, size, batch: int, repeats: int) -> tuple:
    """(GFLOP, oneDNN seconds, NNPACK seconds, NNPACK error) of one convolution shape; NaN where NNPACK cannot
    run it (stride > 1)."""
    x = torch.randn(batch, cin, *size)
    w = torch.randn(cout, cin, *kernel) / (cin * kernel[0] * kernel[1]) ** 0.5
    b = torch.zeros(cout)
    with torch.no_grad():
        exact = F.conv2d(x.double(), w.double(), b.double(), stride, padding)
        onednn = median_seconds(partial(F.conv2d, x.contiguous(memory_format=torch.channels_last), w, b, stride,
                                        padding), repeats)
        nnpack, error = float("nan"), float("nan")
        if stride == (1, 1):
            run = partial(torch._nnpack_spatial_convolution, x, w, b, list(padding), [1, 1])
            nnpack = median_seconds(run, repeats)
            error = ((run().double() - exact).abs().max() / exact.abs().max()).item()
    return 2.0 * exact.numel() * cin * kernel[0] * kernel[1] / 1e9, onednn, nnpack, error


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    weights, _ = inception_weights.inception_weights()
    torch.manual_seed(0)
    total_onednn = total_best = 0.0
    print(f"{'layers':>6} {'conv':>28} {'GFLOP':>7} {'oneDNN GFLOP/s':>15} {'NNPACK GFLOP/s':>15} {'NNPACK error':>13}")
    for shape, count in conv_shapes(str(weights)).items():
        flop, onednn, nnpack, error = measure(*shape[:6], args.batch, args.repeats)
        total_onednn += count * onednn
        total_best += count * (onednn if math.isnan(nnpack) else min(onednn, nnpack))
        cin, cout, kernel, stride, _, size, _ = shape
        name = f"{cin}->{cout} {kernel[0]}x{kernel[1]}/{stride[0]} @{size[0]}x{size[1]}"
        print(f"{count:>6} {name:>28} {flop:7.2f} {flop / onednn:15.0f} {flop / nnpack:15.0f} {error:13.1e}",
              flush=True)
    print(f"convolutions of {args.batch} images: oneDNN {total_onednn:.2f} s, faster of the two per layer "
          f"{total_best:.2f} s (at most {total_onednn / total_best:.2f}x)")


if __name__ == "__main__":
    main()
