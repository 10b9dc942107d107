"""GPU check: the paper configuration's networks trained, sampled and scored on one GPU, with their throughput.

``python benchmarks/gpu_check.py`` (``make gpu-check``; under 8 minutes on one GPU is the aim): the U-Net and the
DiT of workflow/configs/paper.yaml, each with and without the time embedding, trained on CIFAR-10 with the paper's
settings (bf16 autocast and torch.compile, through :func:`diffsched.models.training.train`), first ``--warmup`` steps
(the compile), then ``--steps`` more resumed from that checkpoint and timed (one checkpoint write included). The EMA
weights sample as in the pipeline (:class:`diffsched.models.checkpoints.FlatDenoiser`,
:func:`diffsched.studies.sweep.sample`, the configuration's samplers) and are scored with FID against training images
(:mod:`diffsched.metrics.scores`, on the GPU). Prints training, sampling and FID images/s (sampling and FID: medians of
``--repeats``), the device, torch version and date. FIDs after a few hundred steps check that the path works; they are
not results.

``--reduced`` (``make gpu-check REDUCED=1``, and tests/test_gpu_check.py in CI): the same code on the CPU with
the default configuration's small networks and tiny step and sample counts. There models/training.py trains in fp32 (its
autocast is CUDA-only), so bf16 is exercised on CUDA alone; torch.compile runs in both forms.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import torch
import yaml

from diffsched.data import datasets
from diffsched.metrics import scores
from diffsched.models import checkpoints, nets, training
from diffsched.interface import workflow_config
from diffsched.method import solvers, strategies
from diffsched.studies import sweep
from timing import median_seconds

REPO = Path(__file__).resolve().parents[1]
DATASET, RESOLUTION = "cifar10", 32
VARIANTS = ("with", "without")
# Per form: configuration overlay, device, batch, warm-up and timed steps, samples and sampler steps (None: the
# configuration's), reference images, images read per split (None: all), timed repeats, the models trained with
# torch.compile (None: all) and whether the FID extractor is compiled. On a CPU, compiling a network takes a minute
# or more, so the reduced form compiles the smallest (the metrics' compiled path has its own tests).
FORMS = {
    "full": dict(overlay="workflow/configs/paper.yaml", device="cuda", batch=None, warmup=20, steps=200,
                 samples=256, sampler_steps=None, reference=10000, limit=10000, repeats=3, compiled=None,
                 fid_compiled=True),
    "reduced": dict(overlay=None, device="cpu", batch=8, warmup=1, steps=2, samples=4, sampler_steps=2,
                    reference=32, limit=256, repeats=2, compiled=("dit-without",), fid_compiled=False),
}


def configuration(overlay: str | None) -> dict:
    """config.yaml with ``overlay`` merged on top, nested mappings key by key (as Snakemake's --configfile)."""
    def merged(base, top):
        return {**base, **{k: merged(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
                           for k, v in top.items()}}
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config = merged(config, yaml.safe_load((REPO / overlay).read_text())) if overlay else config
    return {**config, "strategies": workflow_config.strategies_with_defaults(config)}


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    return f"CPU, {torch.get_num_threads()} threads"


def train_model(train_cfg: dict, model: str, images, batch: int, warmup: int, steps: int, compiled: bool, device,
                out: Path):
    """Train ``model`` with bf16 autocast (and torch.compile) for ``warmup`` steps, then ``steps`` more resumed
    from that checkpoint: (EMA network, preconditioning, parameters, warm-up seconds, seconds of the timed steps)."""
    model_spec = checkpoints.spec(train_cfg, model, RESOLUTION)
    torch.manual_seed(train_cfg["seed"])
    net, preconditioning = checkpoints.build(model_spec)
    times = []
    for total in (warmup, warmup + steps):  # the second run resumes from the first one's checkpoint
        config = training.TrainConfig(
            steps=total, batch_size=batch, lr=train_cfg["lr"], betas=tuple(train_cfg["betas"]),
            ema_decay=training.ema_decay(train_cfg["ema_halflife_images"], batch), seed=train_cfg["seed"],
            checkpoint_every=total, log_every=total, precision="bf16", compile=compiled)
        start = time.perf_counter()
        ema = training.train(net, preconditioning, images, out / model, config, device=device, progress=False,
                          run={"spec": model_spec})
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return ema, preconditioning, nets.count_parameters(net), *times


def sample_model(denoiser, config: dict, samples: int, sampler_steps: int | None, repeats: int) -> dict:
    """Per sampler of the configuration: (uint8 images, NFE, median seconds to sample them after a first run)."""
    noise, out = config["noise"], {}
    start = noise["sigma_max"] * torch.randn(samples, 3 * RESOLUTION**2,
                                               generator=sweep.generator(config["seed"], "gpu-check"))
    for label, s in config["training"]["samplers"].items():
        grid = strategies.entry_grid(config["strategies"][s["strategy"]], sampler_steps or s["steps"],
                                     noise["sigma_min"], noise["sigma_max"])
        run = partial(sweep.sample, denoiser, start, grid, s["solver"], RESOLUTION,
                      generator=sweep.generator(config["seed"], "gpu-check", label))
        out[label] = (run(), solvers.nfe(s["solver"], grid), median_seconds(run, repeats))
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reduced", action="store_true", help="the CPU form at toy scale (CI)")
    p.add_argument("--device", help="default: cuda (full form), cpu (reduced form)")
    p.add_argument("--data-root", help="folder of the offline archives (default: diffsched.data.datasets's)")
    p.add_argument("--cache", help="Inception weights and reference features"
                   " (default: diffsched.metrics.inception_weights')")
    for key in ("warmup", "steps", "samples", "reference", "repeats"):
        p.add_argument(f"--{key}", type=int, help="default: the form's (FORMS)")
    args = p.parse_args(argv)
    begin = time.perf_counter()
    form = "reduced" if args.reduced else "full"
    f = {**FORMS[form], **{k: v for k, v in vars(args).items() if k in FORMS[form] and v is not None}}
    if f["device"].startswith("cuda") and not torch.cuda.is_available():
        sys.exit(f"gpu_check: device {f['device']!r} asked for, but torch {torch.__version__} finds no CUDA device "
                 "here; the CPU form is `make gpu-check REDUCED=1` (--reduced)")
    device = torch.device(f["device"])
    config = configuration(f["overlay"])
    train_cfg = config["training"]
    batch = f["batch"] or train_cfg["batch_size"]
    source = datasets.resolve(DATASET, "auto", root=args.data_root)
    images = datasets.read(source, RESOLUTION, f["limit"])["train"][0]
    reference = images[datasets.subset(len(images), f["reference"])]
    precision = "bf16 autocast" if device.type == "cuda" else "fp32 (models/training.py autocasts on CUDA only)"
    print(f"gpu check ({form} form): {device_name(device)}, torch {torch.__version__}, "
          f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", flush=True)
    print(f"{f['overlay'] or 'config.yaml'}: {source.label} ({len(images)} training images), batch {batch}, "
          f"{precision}; {f['warmup']} warm-up + {f['steps']} timed steps; {f['samples']} "
          f"samples per sampler; FID against {len(reference)} training images", flush=True)
    print("\n| model | parameters | compiled | warm-up s | train images/s | sampler | NFE | sample images/s |\n"
          "|---|---|---|---|---|---|---|---|", flush=True)
    sets = {}
    with tempfile.TemporaryDirectory() as out:
        for model in (checkpoints.model_name(n, v) for n in train_cfg["networks"] for v in VARIANTS):
            compiled = f["compiled"] is None or model in f["compiled"]
            ema, preconditioning, parameters, warm, timed = train_model(
                train_cfg, model, images, batch, f["warmup"], f["steps"], compiled, device, Path(out))
            denoiser = checkpoints.FlatDenoiser(ema, preconditioning, RESOLUTION)
            for label, (samples, nfe, seconds) in sample_model(denoiser, config, f["samples"],
                                                                f["sampler_steps"], f["repeats"]).items():
                sets[f"{model}:{label}"] = samples
                print(f"| {model} | {parameters:,} | {compiled} | {warm:.1f} | {f['steps'] * batch / timed:.1f} | "
                      f"{label} | {nfe} | {f['samples'] / seconds:.1f} |", flush=True)
    score = dict(reference_key=scores.reference_key(DATASET, reference), cache=args.cache,
                 cuda=device.type == "cuda", use_compile=f["fid_compiled"])
    fid = scores.compute_metrics_of_sets(sets, reference, ("fid",), **score)  # also compiles and caches
    seconds = median_seconds(lambda: scores.compute_metrics_of_sets(sets, reference, ("fid",), **score),
                             f["repeats"])
    print("\nFID: " + ", ".join(f"{name} {scores['fid']:.1f}" for name, scores in fid.items()))
    print(f"FID images/s: {len(sets) * f['samples'] / seconds:.1f} ({len(sets)} sets of {f['samples']} samples, "
          f"reference features cached, extractor compiled {f['fid_compiled']})")
    print(f"total: {time.perf_counter() - begin:.0f} s")


if __name__ == "__main__":
    main()
