"""The workflow's checks across config keys (diffsched.interface.workflow_config), on the shipped configurations and
on one bad key at a time; tests/test_pipeline.py shows the same messages stopping Snakemake before any job."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from diffsched.interface import workflow_config
from diffsched.method import strategies

REPO = Path(__file__).resolve().parents[1]


def merged(base: dict, overlay: dict) -> dict:
    """An overlay on a config, key by key, as Snakemake's --configfile merges it."""
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def configuration(*overlays: str, extra: str = "") -> dict:
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    for name in overlays:
        cfg = merged(cfg, yaml.safe_load((REPO / "workflow" / "configs" / name).read_text()))
    cfg = merged(cfg, yaml.safe_load(extra) or {})
    return {**cfg, "strategies": workflow_config.strategies_with_defaults(cfg)}


@pytest.mark.parametrize("overlays", [(), ("smoke.yaml",), ("paper.yaml",), ("paper.yaml", "paper-toy.yaml")])
def test_the_shipped_configurations_pass(overlays):
    workflow_config.check(configuration(*overlays))


def test_config_entries_replace_defaults_of_the_same_label_and_add_the_rest():
    cfg = configuration(extra="strategies:\n  edm: {schedule: edm, params: {rho: 3}}\n")
    assert cfg["strategies"]["edm"] == {"schedule": "edm", "params": {"rho": 3}}
    assert set(strategies.DEFAULTS) < set(cfg["strategies"]) and "w2_optimal" in cfg["strategies"]


@pytest.mark.parametrize("extra,message", [
    ("noise:\n  sigma_min: 100.0\n", "sigma_min must be smaller than sigma_max"),
    ("strategies:\n  mine: {schedule: edm, params: {rh: 3}}\n", "config: strategy 'mine'"),
    ("gaussian:\n  strategies: [edm, edn]\n", "gaussian.strategies names ['edn']"),
    ("gaussian:\n  monte_carlo: {strategies: [edn]}\n", "gaussian.monte_carlo.strategies names ['edn']"),
    ("gaussian:\n  monte_carlo: {mean: [0.0]}\n", "mean has 1 entries, eigenvalues 3"),
    ("sweep:\n  strategies: [edm, karras]\n", "sweep.strategies names ['karras']"),
    ("spectrum:\n  datasets: [cifar100]\n", "names ['cifar100'], which data.datasets or spectrum.published does not"),
    ("sweep:\n  datasets: [cifar10_lossless]\n", "sweep.datasets, probe.datasets or blind.datasets names "
     "['cifar10_lossless'], which data.datasets does not define"),
    ("spectrum:\n  published:\n    cifar10: {eigenvalues: cifar10_lossless, basis: cifar10}\n",
     "spectrum.published ids ['cifar10'] are also data.datasets ids"),
    ("spectrum:\n  published:\n    mine: {eigenvalues: cifar10_lossless, basis: cifar100}\n",
     "spectrum.published.mine.basis names ['cifar100']"),
    ("spectrum:\n  datasets: [cifar10_lossless]\n", "ranks cifar10_lossless but not its basis 'cifar10'"),
    ("training:\n  datasets: [cifar100]\n", "training.datasets names ['cifar100']"),
    ("sweep:\n  denoisers: [mixture]\n  datasets: [celeba32]\n", "the mixture oracle needs class labels"),
    ("sweep:\n  every_seed: [gausian]\n", "sweep.every_seed names ['gausian']"),
    ("sweep:\n  every_seed: [cifar100/gaussian]\n", "every_seed names ['cifar100/gaussian']"),
    ("sweep:\n  networks: [unet-sometimes]\n", "sweep.networks names ['unet-sometimes']"),
    ("blind:\n  trajectory: heun2\n", "blind.trajectory 'heun2' is not a key of blind.samplers"),
    ("blind:\n  strategy: power_best\n", "blind.strategy 'power_best' is not a closed-form strategy"),
    ("blind:\n  scored_resolutions: [4]\n", "blind.scored_resolutions [4] are not among blind.resolutions"),
    ("training:\n  variants:\n    odd: {time_embedding: true, capacity_matched: true}\n",
     "training.variants.odd: capacity_matched replaces a removed embedding"),
    ("training:\n  samplers:\n    heun: {solver: heun, steps: 18, strategy: kl_optimal}\n",
     "training.samplers.heun.strategy 'kl_optimal' must name a closed-form strategy"),
    ("training:\n  log_every: 7\n", "log_every (7) must divide checkpoint_every"),
    ("training:\n  ideal: {sigma_min: 5.0, sigma_max: 1.0}\n", "training.ideal: need sigma_min < sigma_max"),
])
def test_a_bad_key_is_refused_naming_it(extra, message):
    with pytest.raises(ValueError) as err:
        workflow_config.check(configuration(extra=extra))
    assert message in str(err.value)
