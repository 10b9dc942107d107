"""Command line: ``python -m diffsched {grid,criterion,spectrum,recommend,provenance,job-resources} ...`` (``kl``
is ``criterion``); each prints JSON (provenance: text, job-resources: YAML; recommend: as ``--format`` asks, for
diffusers, k-diffusion or ComfyUI too)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np

from diffsched.data import spectrum_sources
from diffsched.infra import atomic
from diffsched.interface import export
from diffsched.method import gaussian, solvers, strategies
from diffsched.method.schedules import SIGMA_MAX, SIGMA_MIN


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _params(pairs: list[str], option: str = "--param") -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{option} takes KEY=VALUE (for example rho=7), got {pair!r}")
        out[key] = _value(value)
    return out


def request(args) -> spectrum_sources.Request:
    """The spectrum request the arguments make (the options a command does not have keep their defaults)."""
    names = {f.name for f in fields(spectrum_sources.Request)}
    return spectrum_sources.Request(**{k: v for k, v in vars(args).items() if k in names})


def _eigenvalues(args):
    """The --eigenvalues file's values, or None when it is not given."""
    return spectrum_sources.eigenvalue_file(args.eigenvalues).eigenvalues if args.eigenvalues else None


def _grid(args, eigenvalues) -> tuple[np.ndarray, int]:
    """The grid asked for, and its number of steps (from --steps, or the largest that fits --nfe)."""
    if "eigenvalues" in strategies.needs(args.schedule) and eigenvalues is None:
        raise ValueError(f"schedule {args.schedule!r} needs --eigenvalues FILE.npy")
    entry = {"schedule": args.schedule, "params": _params(args.param)}
    steps = args.steps if args.steps is not None else solvers.steps_for_nfe(args.solver, args.nfe)
    context = strategies.Context(eigenvalues, args.solver, args.init)
    return strategies.entry_grid(entry, steps, args.sigma_min, args.sigma_max, context), steps


def cmd_grid(args) -> dict:
    grid, steps = _grid(args, _eigenvalues(args))
    return {"schedule": args.schedule, "steps": steps, "solver": args.solver, "nfe": solvers.nfe(args.solver, grid),
            "sigma_min": args.sigma_min, "sigma_max": args.sigma_max, "params": _params(args.param),
            "sigmas": grid.tolist()}


def cmd_criterion(args) -> dict:
    """Criterion --name of the grid (gaussian.criterion), every criterion at its defaults, and the two KLs."""
    eigenvalues = _eigenvalues(args)
    grid, steps = _grid(args, eigenvalues)
    params = _params(args.criterion_param, "--criterion-param")
    criterion_params, solver_params = gaussian.check_params(args.name, args.solver, params)
    value = gaussian.criterion(args.name, eigenvalues, grid, args.solver, args.init, **params)
    every = {name: gaussian.criterion(name, eigenvalues, grid, args.solver, args.init, **solver_params)
             for name in gaussian.CRITERIA}
    kl = {"forward": every["kl"], "reverse": every["kl_reverse"]}
    return {"criterion": args.name, "criterion_params": criterion_params, "solver_params": solver_params,
            "value": value,
            "criteria": every, "kl": kl[args.direction], "direction": args.direction, "kl_forward": kl["forward"],
            "kl_reverse": kl["reverse"], "nfe": solvers.nfe(args.solver, grid), "steps": steps,
            "solver": args.solver, "init": args.init, "schedule": args.schedule, "params": _params(args.param),
            "dimension": int(eigenvalues.size), "sigmas": grid.tolist()}


FORMATS = ("json", "diffusers", "diffusers-flow", "k-diffusion", "comfyui", "comfyui-flow")
VP_OPTIONS = {"num_train_timesteps": "--num-train-timesteps", "beta_schedule": "--beta-schedule",
              "beta_start": "--beta-start", "beta_end": "--beta-end"}


def _vp_model(args) -> dict | None:
    """The discrete VP model of --format diffusers (diffusers' defaults where not given), None for other formats."""
    given = {key: getattr(args, key) for key in VP_OPTIONS if getattr(args, key) is not None}
    if args.format != "diffusers":
        if given:
            raise ValueError(f"{VP_OPTIONS[next(iter(given))]} describes the model of --format diffusers; add "
                             "--format diffusers or drop it")
        return None
    if given.get("beta_schedule") == "squaredcos_cap_v2" and {"beta_start", "beta_end"} & set(given):
        raise ValueError("--beta-schedule squaredcos_cap_v2 has no beta range; drop --beta-start and --beta-end")
    return export.check_vp_model(**{**export.DDPM, **given})


def _flow_model(args) -> dict | None:
    """The flow-matching scheduler config of --format diffusers-flow (--scheduler-config, else none)."""
    if args.format != "diffusers-flow":
        if args.scheduler_config:
            raise ValueError("--scheduler-config describes the model of --format diffusers-flow; add it or drop "
                             "--scheduler-config")
        return None
    if args.final != "zero":
        raise ValueError("FlowMatchEulerDiscreteScheduler appends a final 0 to the sigmas it is given, so "
                         "--format diffusers-flow has --final zero only; use --format comfyui-flow or json to stop "
                         "at sigma_min")
    if not args.scheduler_config:
        return {}
    try:
        return json.loads(Path(args.scheduler_config).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"--scheduler-config {args.scheduler_config!r} is not a readable JSON scheduler config: "
                         f"{err}") from None


def budgets(text: str) -> list[int]:
    """--nfe: one denoiser-call budget or several, comma-separated (4,6,8)."""
    try:
        values = [int(v) for v in str(text).split(",")]
    except ValueError:
        raise ValueError(f"--nfe takes budgets >= 1, one or comma-separated (4,6,8), got {text!r}") from None
    if any(v < 1 for v in values) or len(set(values)) != len(values):
        raise ValueError(f"--nfe takes distinct budgets >= 1, one or comma-separated (4,6,8), got {text!r}")
    return values


def _check_output_format(args) -> dict | None:
    """Refuse a bad --format/--out/--nfe combination before any work; the model of --format diffusers or
    diffusers-flow."""
    if args.format == "k-diffusion" and not args.out:
        raise ValueError("--format k-diffusion writes a torch file; give --out FILE.pt")
    if args.format == "k-diffusion" and len(budgets(args.nfe)) > 1:
        raise ValueError("--format k-diffusion writes one sigmas tensor; give one --nfe budget")
    if args.out:
        atomic.check_writable(args.out)
    flow = _flow_model(args)
    return flow if flow is not None else _vp_model(args)


def cmd_recommend(args) -> dict:
    from diffsched.interface import recommend

    model = _check_output_format(args)
    nfes = budgets(args.nfe)
    found = spectrum_sources.resolve(request(args))
    results = [{"source": found.label, "spectrum": found.file, "dimension": int(found.eigenvalues.size),
                **recommend.recommend(found.eigenvalues, nfe, args.solver, args.sigma_min, args.sigma_max, args.init,
                                      criterion=args.criterion)} for nfe in nfes]
    return _emit(args, results, model)


RECORD_KEYS = ("source", "dimension", "strategy", "criterion", "value", "nfe", "steps", "solver")


def _record(args, result: dict, model: dict | None) -> dict:
    """One recommendation as --format asks (json, diffusers, diffusers-flow), in the --final convention."""
    info = {key: result[key] for key in RECORD_KEYS}
    if args.format == "diffusers":
        return export.grid_record(result["sigmas"], model, args.final, **info)
    if args.format == "diffusers-flow":
        return export.flow_record(result["sigmas"], model, **info)
    return {**result, "final": args.final, "sigmas": export.exported_grid(result["sigmas"], args.final).tolist()}


def _text(args, results: list[dict], model: dict | None) -> str:
    """The recommendations as --format asks: comfyui's sigma strings (one line per budget, each after a '# nfe'
    line when there are several), or JSON (one object, or a list of them for several budgets)."""
    if args.format in ("comfyui", "comfyui-flow"):
        lines = [export.comfyui(r["sigmas"], args.final, flow=args.format == "comfyui-flow") for r in results]
        if len(results) == 1:
            return lines[0]
        return "\n".join(f"# nfe {nfe}, {r['strategy']}\n{line}"
                         for nfe, r, line in zip(budgets(args.nfe), results, lines))
    records = [_record(args, r, model) for r in results]
    return json.dumps(records[0] if len(records) == 1 else records, indent=1)


FINAL_NOTE = {"zero": "final sigma 0: the last step returns the denoised estimate",
              "sigma_min": "final sigma = sigma_min: the grid stops there (one step fewer), the output keeps noise "
                           "of std sigma_min"}


def _emit(args, results: list[dict], model: dict | None) -> dict:
    """Print the recommendations, or write them to --out (k-diffusion: a torch file) and say so on stderr; the
    final-sigma convention and any scheduler notes go to stderr too."""
    print(f"{args.format}: {FINAL_NOTE[args.final]}", file=sys.stderr)
    for change in export.flow_scheduler_changes(model) if args.format == "diffusers-flow" else []:
        print(f"warning: the model's {change}; scheduler_kwargs override it", file=sys.stderr)
    if args.format == "k-diffusion":
        export.write_k_diffusion(args.out, results[0]["sigmas"], args.final)
    elif args.out:
        atomic.write_text(args.out, _text(args, results, model) + "\n")
    else:
        print(_text(args, results, model))
        return {}
    steps = ", ".join(str(r["steps"]) for r in results)
    print(f"wrote the {', '.join(r['strategy'] for r in results)} grid ({steps} steps) as {args.format} to "
          f"{args.out}", file=sys.stderr)
    return {}


def cmd_spectrum(args) -> dict:
    from diffsched.data import estimate

    estimate.check_output(args.out)  # before a data set is prepared
    return estimate.write(spectrum_sources.images_of(request(args)), args.out, args.method)


def cmd_provenance(args) -> dict:
    from diffsched.infra import provenance

    if not provenance.record_path(args.results, args.artefact).is_file():
        raise ValueError(f"no provenance record for {args.artefact!r} under {args.results}/provenance; is it a "
                         "workflow output, and is --results the run's results folder?")
    tree = provenance.chain(args.artefact, args.results)
    if not args.json:
        print("\n".join(provenance.render(tree)))
        return {}
    return tree


def cmd_job_resources(args) -> dict:
    from diffsched.infra import job_resources

    measured = job_resources.job_resources(args.benchmarks)
    margin = (f"peak RSS x {job_resources.MEM_FACTOR} + {job_resources.MEM_EXTRA_MB} MB, "
              f"wall time x {job_resources.TIME_FACTOR:g} + {job_resources.TIME_EXTRA_MIN} min")
    print(f"# measured from {args.benchmarks} ({margin})")
    print(job_resources.as_yaml(measured), end="")
    return {}


SOLVER_HELP = (f"deterministic: {', '.join(solvers.SOLVERS)}; stochastic (default eta = 1): "
               f"{', '.join(solvers.STOCHASTIC_SOLVERS)}")


def _grid_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--schedule", required=True, help=f"one of: {', '.join(strategies.NAMES)}")
    budget = p.add_mutually_exclusive_group(required=True)
    budget.add_argument("--nfe", type=int, help="denoiser-call budget; the grid gets the most steps that fit")
    budget.add_argument("--steps", type=int, help="number of steps n (grid of n + 1 values)")
    p.add_argument("--solver", default="euler", help=SOLVER_HELP)
    p.add_argument("--init", default="exact", help=f"sampler start: {', '.join(gaussian.INITS)}")
    p.add_argument("--sigma-min", type=float, default=SIGMA_MIN)
    p.add_argument("--sigma-max", type=float, default=SIGMA_MAX)
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="schedule parameter, e.g. rho=7, or criterion=w2 for tangent_opt and optimal")


def _image_arguments(p: argparse.ArgumentParser, what) -> None:
    """The data a spectrum is computed from (added to ``what``, a mutually exclusive group) and how."""
    what.add_argument("--images", metavar="DIR", help="a folder of images (PNG, JPEG, ...; subfolders too)")
    what.add_argument("--array", metavar="FILE", help="N x H x W x C .npy/.npz: uint8 images or float latents")
    what.add_argument("--dataset", choices=["cifar10", "celeba", "fashion_mnist"],
                      help="prepared and cached on first use")
    p.add_argument("--method", default="auto", choices=["auto", "full", "stationary"],
                   help="full covariance, the stationary (Fourier) approximation, or auto: full up to d = 12,288 "
                   "(recommend: for --images and --array)")
    p.add_argument("--resize", type=int, metavar="N", help="--images: resize each image to N x N (bicubic)")
    p.add_argument("--crop", action="store_true", help="--images: centre-crop to a square before --resize")
    p.add_argument("--scale", type=float, help="--array of float latents: multiply by this (a VAE's factor)")
    p.add_argument("--resolution", type=int, help="--dataset image size (default 32; CelebA: 32 or 64; "
                   "Fashion-MNIST: 28 only)")
    p.add_argument("--source", default="auto", choices=["auto", "offline", "official"])
    p.add_argument("--data-root", help="folder of the offline archives (default ../shared/data)")
    p.add_argument("--path", help="an official archive (cifar-10-python.tar.gz, img_align_celeba.zip) or the "
                   "folder of Fashion-MNIST's four IDX files")
    p.add_argument("--cache", default="results", help="where data and spectra are cached (the workflow's results)")


def _format_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default="json", choices=FORMATS,
                   help="json: the full recommendation; diffusers: sigmas and the integer timesteps of a discrete VP "
                   "model (docs/recommend.md); diffusers-flow: rectified-flow times t = sigma / (1 + sigma) and the "
                   "settings of FlowMatchEulerDiscreteScheduler that keep them; k-diffusion: a torch.save'd sigmas "
                   "tensor (needs --out); comfyui: the comma-separated sigmas of its custom-sigmas nodes; "
                   "comfyui-flow: the same for a flow-matching model (its times t)")
    p.add_argument("--final", default="zero", choices=export.FINALS,
                   help="final-sigma convention: zero (the grid ends in 0) or sigma_min (the grid without its last "
                   "step, ending at sigma_min)")
    p.add_argument("--scheduler-config", metavar="FILE.json",
                   help="--format diffusers-flow: the model's scheduler_config.json; settings that would shift the "
                   "sigmas are overridden in scheduler_kwargs, with a warning")
    p.add_argument("--out", metavar="FILE", help="write there (atomically) instead of printing")
    p.add_argument("--num-train-timesteps", type=int, help="--format diffusers: the model's T (default 1000)")
    p.add_argument("--beta-schedule", choices=export.BETA_SCHEDULES, help="--format diffusers (default linear)")
    p.add_argument("--beta-start", type=float, help="--format diffusers (default 1e-4)")
    p.add_argument("--beta-end", type=float, help="--format diffusers (default 0.02)")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m diffsched", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    grid = sub.add_parser("grid", help="print a sigma grid as JSON")
    _grid_arguments(grid)
    grid.add_argument("--eigenvalues", help="spectrum (.npy) for tangent_opt, variational, optimal")
    grid.set_defaults(run=cmd_grid)
    crit = sub.add_parser("criterion", aliases=["kl"], help="exact Gaussian criteria of a grid for a spectrum, as JSON")
    _grid_arguments(crit)
    crit.add_argument("--eigenvalues", required=True, help="covariance eigenvalues, a 1-D .npy file")
    crit.add_argument("--name", default="kl", choices=list(gaussian.CRITERIA),
                      help="the criterion reported as 'value' (docs/criteria.md); every one is under 'criteria'")
    crit.add_argument("--criterion-param", action="append", default=[], metavar="KEY=VALUE",
                      help="criterion or solver parameter, e.g. delta=0.01 for kl_smoothed, eta=0.5 for "
                      "euler_ancestral")
    crit.add_argument("--direction", default="forward", choices=gaussian.DIRECTIONS, help="which KL 'kl' reports")
    crit.set_defaults(run=cmd_criterion)
    spec = sub.add_parser("spectrum", help="covariance eigenvalues and mean of images or latents, into a .npz file")
    _image_arguments(spec, spec.add_mutually_exclusive_group(required=True))
    spec.add_argument("--out", required=True, metavar="FILE.npz", help="written atomically; its folder is created")
    spec.set_defaults(run=cmd_spectrum)
    rec = sub.add_parser("recommend", help="the grid with the lowest exact criterion (default: W2) for a "
                         "data set or spectrum, as JSON or for diffusers, k-diffusion, ComfyUI")
    what = rec.add_mutually_exclusive_group(required=True)
    _image_arguments(rec, what)
    what.add_argument("--eigenvalues", help="your own covariance eigenvalues, a 1-D .npy file")
    what.add_argument("--spectrum", metavar="FILE.npz", help="a spectrum file (from `spectrum --out`)")
    rec.add_argument("--estimate", action="store_true",
                     help="--dataset cifar10: estimate the spectrum from the images at hand (the offline copy is JPEG "
                     "q75, a sensitivity case) instead of the published lossless eigenvalues")
    rec.add_argument("--nfe", required=True, help="denoiser-call budget, or several comma-separated (4,6,8)")
    rec.add_argument("--solver", default="euler", help=SOLVER_HELP)
    rec.add_argument("--init", default="exact", help=f"sampler start: {', '.join(gaussian.INITS)}")
    rec.add_argument("--sigma-min", type=float, default=SIGMA_MIN)
    rec.add_argument("--sigma-max", type=float, default=SIGMA_MAX)
    rec.add_argument("--criterion", default="w2", choices=list(gaussian.CRITERIA),
                     help="what the strategies are ranked by and the finite-n optimum minimises (docs/criteria.md)")
    _format_arguments(rec)
    rec.set_defaults(run=cmd_recommend)
    prov = sub.add_parser("provenance", help="walk a workflow artefact back to its data and config")
    prov.add_argument("artefact", help="a file the workflow wrote, e.g. figures/data/spectra.pdf")
    prov.add_argument("--results", default="results", help="the run's results folder (config key results)")
    prov.add_argument("--json", action="store_true", help="print the whole tree as JSON")
    prov.set_defaults(run=cmd_provenance)
    res = sub.add_parser("job-resources", help="each rule's cluster request from measured benchmark files, as YAML")
    res.add_argument("benchmarks", help="a run's benchmark folder, e.g. results/benchmarks or results/smoke/benchmarks")
    res.set_defaults(run=cmd_job_resources)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if hasattr(args, "solver"):
            solvers.get(args.solver, stochastic=True)
        result = args.run(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if result:
        json.dump(result, sys.stdout, indent=1)
        sys.stdout.write("\n")
    return 0
