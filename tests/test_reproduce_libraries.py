"""The project's exact Gaussian oracle sampled by k-diffusion and diffusers on a recommended grid equals the
project's own solvers; each ``recommend --format`` read back by the library it is for."""

import json

import numpy as np
import pytest
import torch
from diffusers import DPMSolverMultistepScheduler, EulerDiscreteScheduler, FlowMatchEulerDiscreteScheduler
from k_diffusion import sampling

from diffsched.interface import cli, export, recommend
from diffsched.method import solvers, strategies
from diffsched.models.denoisers import GaussianDenoiser

DIM = 8
LAM = np.geomspace(0.01, 2.0, DIM)


@pytest.fixture(scope="module")
def oracle():
    """N(mu, U diag(LAM) U^T) with a random rotation U and mean mu."""
    rng = np.random.default_rng(0)
    rotation, _ = np.linalg.qr(rng.standard_normal((DIM, DIM)))
    return GaussianDenoiser(0.3 * rng.standard_normal(DIM), LAM, rotation)


def k_model(oracle):
    """The oracle as a k-diffusion denoiser: model(x, sigma) with one sigma per batch row (all equal here)."""
    def model(x, sigma):
        assert torch.all(sigma == sigma[0])
        return oracle(x, float(sigma[0]))
    return model


def start(sigma_max: float, seed: int = 0) -> torch.Tensor:
    return torch.randn(4, DIM, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * sigma_max


GRIDS = {"recommended": lambda solver: recommend.recommend(LAM, 7, solver)["sigmas"],
         "edm": lambda solver: strategies.grid("edm", 9, 0.002, 80.0, rho=7).tolist()}


@pytest.mark.parametrize("grid", list(GRIDS))
@pytest.mark.parametrize("solver,k_sampler", [("euler", sampling.sample_euler), ("heun", sampling.sample_heun)])
def test_k_diffusion_samplers_equal_the_project_solvers(oracle, grid, solver, k_sampler):
    sigmas = GRIDS[grid](solver)
    x0 = start(sigmas[0])
    theirs = k_sampler(k_model(oracle), x0, torch.tensor(sigmas, dtype=torch.float64), disable=True)
    ours = solvers.get(solver)(oracle, x0, sigmas)
    np.testing.assert_allclose(theirs.numpy(), ours.numpy(), rtol=0, atol=1e-12)  # the same float64 arithmetic


@pytest.mark.parametrize("prediction_type", ["epsilon", "sample"])
def test_diffusers_euler_with_sigmas_equals_the_project_euler(oracle, prediction_type):
    sigmas = recommend.recommend(LAM, 8, "euler")["sigmas"]
    scheduler = EulerDiscreteScheduler(**export.DDPM, prediction_type=prediction_type)
    scheduler.set_timesteps(sigmas=sigmas)
    x = start(sigmas[0], seed=1).float()
    for i, t in enumerate(scheduler.timesteps):
        sigma = float(scheduler.sigmas[i])
        scheduler.scale_model_input(x, t)  # what a network would see; the exact model takes x itself
        denoised = oracle(x.double(), sigma)
        output = (x.double() - denoised) / sigma if prediction_type == "epsilon" else denoised
        x = scheduler.step(output.float(), t, x).prev_sample
    # the scheduler holds the start and the grid in float32 and steps in float32 (it upcasts to float32 only), on
    # states up to sigma_max = 80 in size: the same start and grid, equal to float32 round-off (measured 2e-6)
    expected = solvers.euler(oracle, start(sigmas[0], seed=1).float().double(), scheduler.sigmas.double())
    np.testing.assert_allclose(scheduler.sigmas.numpy(), sigmas, rtol=1e-7)
    np.testing.assert_allclose(x.double().numpy(), expected.numpy(), rtol=0, atol=5e-6)


@pytest.fixture(scope="module")
def lam_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("lam") / "lam.npy"
    np.save(path, LAM)
    return path


def run(capsys, lam_file, *args):
    code = cli.main(["recommend", "--eigenvalues", str(lam_file), "--nfe", "6", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_format_is_the_default_output(lam_file, capsys):
    code, out, err = run(capsys, lam_file)
    assert code == 0, err
    assert run(capsys, lam_file, "--format", "json")[1] == out
    expected = {"source": str(lam_file), "spectrum": str(lam_file), "dimension": DIM, **recommend.recommend(LAM, 6),
                "final": "zero"}
    assert json.loads(out) == json.loads(json.dumps(expected))


@pytest.mark.parametrize("model", [{}, {"--beta-schedule": "scaled_linear", "--beta-start": 0.00085,
                                        "--beta-end": 0.012, "--num-train-timesteps": 1000},
                                   {"--beta-schedule": "squaredcos_cap_v2", "--num-train-timesteps": 500}])
def test_diffusers_format_drives_the_schedulers(lam_file, capsys, model):
    options = [str(v) for pair in model.items() for v in pair]
    code, out, err = run(capsys, lam_file, "--format", "diffusers", "--sigma-min", "0.05", "--sigma-max", "14",
                         *options)
    assert code == 0, err
    record = json.loads(out)
    sigmas = recommend.recommend(LAM, 6, sigma_min=0.05, sigma_max=14.0)["sigmas"]
    np.testing.assert_allclose(record["sigmas"], sigmas, rtol=1e-12)
    euler = EulerDiscreteScheduler(**record["vp_model"])
    euler.set_timesteps(sigmas=record["sigmas"])
    np.testing.assert_allclose(euler.sigmas.numpy(), sigmas, rtol=1e-6)
    alphabar = euler.alphas_cumprod.double().numpy()  # diffusers' own training noise levels
    log_train = np.log(np.sqrt((1 - alphabar) / alphabar))
    nearest = np.argmin(np.abs(log_train[None, :] - np.log(sigmas[:-1])[:, None]), axis=1)
    assert record["timesteps"] == nearest.tolist()
    error = np.abs(log_train[nearest] - np.log(sigmas[:-1]))
    assert record["timestep_rounding"]["max_abs_log_sigma"] == pytest.approx(error.max(), abs=1e-4)
    dpm = DPMSolverMultistepScheduler(**record["vp_model"])
    dpm.set_timesteps(timesteps=record["timesteps"])
    assert dpm.timesteps.tolist() == record["timesteps"]
    np.testing.assert_allclose(dpm.sigmas[:-1].double().numpy(), record["timestep_sigmas"], rtol=2e-4)


def test_k_diffusion_file_samples_like_the_grid(lam_file, capsys, tmp_path, oracle):
    out = tmp_path / "new" / "sigmas.pt"
    code, stdout, err = run(capsys, lam_file, "--format", "k-diffusion", "--out", out, "--solver", "heun")
    assert code == 0, err
    assert stdout == "" and f"as k-diffusion to {out}" in err
    sigmas = torch.load(out)
    expected = recommend.recommend(LAM, 6, "heun")["sigmas"]
    assert sigmas.dtype == torch.float64 and sigmas.tolist() == expected
    x0 = start(expected[0], seed=2)
    theirs = sampling.sample_heun(k_model(oracle), x0, sigmas, disable=True)
    np.testing.assert_allclose(theirs.numpy(), solvers.heun(oracle, x0, expected).numpy(), rtol=0, atol=1e-12)


def test_comfyui_format_is_the_exact_sigma_string(lam_file, capsys, tmp_path):
    code, out, err = run(capsys, lam_file, "--format", "comfyui")
    assert code == 0, err
    expected = recommend.recommend(LAM, 6)["sigmas"]
    assert [float(v) for v in out.strip().split(",")] == expected and out.count("\n") == 1
    assert expected[0] == 80.0 and expected[-1] == 0.0
    code, _, err = run(capsys, lam_file, "--format", "comfyui", "--out", tmp_path / "sigmas.txt")
    assert code == 0 and (tmp_path / "sigmas.txt").read_text() == out


@pytest.mark.parametrize("model_config", [None, {"_class_name": "FlowMatchEulerDiscreteScheduler", "shift": 3.0},
                                          {"use_dynamic_shifting": True, "base_shift": 0.5, "max_shift": 1.15}])
def test_diffusers_flow_format_keeps_the_sigmas_and_steps_like_euler(lam_file, capsys, tmp_path, oracle, model_config):
    options = []
    if model_config is not None:
        (tmp_path / "scheduler_config.json").write_text(json.dumps(model_config))
        options = ["--scheduler-config", tmp_path / "scheduler_config.json"]
    code, out, err = run(capsys, lam_file, "--format", "diffusers-flow", *options)
    assert code == 0, err
    record = json.loads(out)
    sigmas = recommend.recommend(LAM, 6)["sigmas"]
    assert record["final"] == "zero" and "final sigma 0" in err
    np.testing.assert_allclose(record["flow_sigmas"], np.array(sigmas[:-1]) / (1 + np.array(sigmas[:-1])), rtol=1e-15)
    if model_config is not None:  # the model's own setting would shift the sigmas: warned, and refused unchanged
        assert "warning: the model's" in err
        with pytest.raises(ValueError, match="would change the exported sigmas"):
            export.check_flow_scheduler(FlowMatchEulerDiscreteScheduler.from_config(model_config).config)
    scheduler = FlowMatchEulerDiscreteScheduler.from_config(record["scheduler_kwargs"])
    export.check_flow_scheduler(scheduler.config)
    scheduler.set_timesteps(sigmas=record["flow_sigmas"])
    times = scheduler.sigmas.double().numpy()  # held in float32, the final 0 appended by the scheduler
    np.testing.assert_allclose(times, record["flow_sigmas"] + [0.0], rtol=1e-7)
    np.testing.assert_allclose(scheduler.timesteps.double().numpy(), record["timesteps"], rtol=1e-7)
    # Its Euler step on the velocity of the Gaussian oracle, v = (x_t - D(x_t / (1 - t); t / (1 - t))) / t, equals the
    # project's Euler in sigma space on the same grid (x_sigma = x_t / (1 - t)).
    x = start(sigmas[0], seed=3).float() * float(1 - times[0])
    for i, step_t in enumerate(scheduler.timesteps):
        t = float(times[i])
        velocity = (x.double() - oracle(x.double() / (1 - t), t / (1 - t))) / t
        x = scheduler.step(velocity.float(), step_t, x).prev_sample
    grid = times / (1 - times)  # the scheduler's float32 times as sigmas
    expected = solvers.euler(oracle, (start(sigmas[0], seed=3).float() * float(1 - times[0])).double() / (1 - times[0]),
                             grid)
    np.testing.assert_allclose(x.double().numpy(), expected.numpy(), rtol=0, atol=2e-5)


def test_several_budgets_in_one_call(lam_file, capsys):
    code, out, err = run_nfe(capsys, lam_file, "4,6,8")
    assert code == 0, err
    records = json.loads(out)
    assert [r["nfe"] for r in records] == [4, 6, 8]
    for r, nfe in zip(records, (4, 6, 8)):
        assert r["sigmas"] == recommend.recommend(LAM, nfe)["sigmas"]
    code, out, err = run_nfe(capsys, lam_file, "4,6,8", "--format", "comfyui-flow")
    lines = out.strip().split("\n")
    assert code == 0 and [line.split(",")[0] for line in lines[::2]] == ["# nfe 4", "# nfe 6", "# nfe 8"]
    want = np.array(records[2]["sigmas"])
    np.testing.assert_allclose([float(v) for v in lines[5].split(",")], want / (1 + want), rtol=1e-15)


def test_final_sigma_min_drops_the_last_step(lam_file, capsys):
    code, out, err = run(capsys, lam_file, "--final", "sigma_min")
    assert code == 0 and "final sigma = sigma_min" in err
    sigmas = recommend.recommend(LAM, 6)["sigmas"]
    assert json.loads(out)["sigmas"] == sigmas[:-1] and json.loads(out)["final"] == "sigma_min"
    code, out, _ = run(capsys, lam_file, "--final", "sigma_min", "--format", "comfyui")
    assert [float(v) for v in out.split(",")] == sigmas[:-1]


def run_nfe(capsys, lam_file, nfe, *args):
    code = cli.main(["recommend", "--eigenvalues", str(lam_file), "--nfe", nfe, *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args,message", [
    (["--format", "k-diffusion"], "--format k-diffusion writes a torch file; give --out FILE.pt"),
    (["--format", "k-diffusion", "--out", "{tmp}/s.pt", "--nfe", "4,6"], "writes one sigmas tensor; give one --nfe"),
    (["--nfe", "4,x"], "--nfe takes budgets >= 1"), (["--nfe", "4,4"], "--nfe takes distinct budgets"),
    (["--format", "diffusers-flow", "--final", "sigma_min"], "appends a final 0"),
    (["--scheduler-config", "{file}"], "--scheduler-config describes the model of --format diffusers-flow"),
    (["--format", "diffusers-flow", "--scheduler-config", "{file}"], "is not a readable JSON scheduler config"),
    (["--format", "diffusers", "--out", "{file}/x.json"], "cannot write the output"),
    (["--out", "{tmp}"], "is a folder; give a file name"),
    (["--beta-schedule", "scaled_linear"], "--beta-schedule describes the model of --format diffusers"),
    (["--format", "comfyui", "--num-train-timesteps", "500"], "add --format diffusers or drop it"),
    (["--format", "diffusers", "--beta-schedule", "squaredcos_cap_v2", "--beta-end", "0.01"],
     "drop --beta-start and --beta-end"),
    (["--format", "diffusers", "--beta-start", "0.5", "--beta-end", "0.1"], "0 < beta_start <= beta_end < 1"),
])
def test_bad_combinations_are_refused_before_any_work(tmp_path, capsys, args, message):
    (tmp_path / "file").write_text("a file, not a folder")
    missing = tmp_path / "missing.npy"  # the format is checked first: no 'does not exist' for the eigenvalues
    argv = [a.format(file=tmp_path / "file", tmp=tmp_path) for a in args]
    code = cli.main(["recommend", "--eigenvalues", str(missing), "--nfe", "6", *argv])
    _, err = capsys.readouterr()
    assert code == 2 and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_unknown_format_names_the_valid_ones(lam_file, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["recommend", "--eigenvalues", str(lam_file), "--nfe", "6", "--format", "onnx"])
    assert exit_.value.code == 2
    assert "choose from 'json', 'diffusers', 'diffusers-flow', 'k-diffusion', 'comfyui', 'comfyui-flow'" in (
        capsys.readouterr().err)
