"""The gap of a denoiser to its ideal (diffsched.studies.ideal_gap) against expectations written here."""

import numpy as np
import pytest
import torch

from diffsched.models import denoisers
from diffsched.studies import ideal_gap
from diffsched.models.precond import EDM

SIGMAS = [0.1, 0.5, 2.0]


def diagonal_gaussian(eigenvalues):
    """N(0, diag(eigenvalues)) as a GaussianDenoiser (identity eigenvectors)."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    return denoisers.GaussianDenoiser(np.zeros(lam.size), lam, np.eye(lam.size))


def test_a_denoiser_equal_to_its_oracle_has_no_gap_and_a_shift_has_its_square():
    oracle = diagonal_gaussian([0.05, 0.4, 1.0, 3.0])
    clean = oracle.sample(50, torch.Generator().manual_seed(0))
    shift = torch.tensor([0.1, -0.2, 0.3, 0.0], dtype=torch.float64)
    models = {"same": oracle, "shifted": lambda x, sigma: oracle(x, sigma) + shift}
    table = ideal_gap.compare(models, {"gaussian": oracle}, clean, SIGMAS, torch.Generator().manual_seed(1),
                              batch=16).set_index(["model", "sigma"])
    assert table.loc["same", "gap"].eq(0).all()
    assert np.allclose(table.loc["same", "mse"], table.loc["same", "oracle_mse"], rtol=0, atol=1e-15)
    assert np.allclose(table.loc["shifted", "gap"], float(shift.square().mean()), rtol=1e-12)
    assert np.allclose(table.loc["shifted", "gap_se"], 0.0, atol=1e-12)
    assert (table["n_images"] == 50).all()


def test_gaussian_denoisers_meet_the_closed_form():
    """Data N(0, diag(lam)), x = y + s n, z = x ~ N(0, lam + s^2) per coordinate. The oracle's shrinkage is
    a = lam / (lam + s^2), a model's b = mu / (mu + s^2) for a wrong spectrum mu:
    E(a z - y)^2 = lam s^2 / (lam + s^2); E(b z - y)^2 = (b - 1)^2 lam + b^2 s^2;
    E((b - a) z)^2 = (b - a)^2 (lam + s^2)."""
    lam, mu = np.array([0.05, 0.4, 2.0]), np.array([0.2, 0.1, 1.0])
    oracle, model = diagonal_gaussian(lam), diagonal_gaussian(mu)
    clean = oracle.sample(40_000, torch.Generator().manual_seed(2))
    table = ideal_gap.compare({"model": model}, {"oracle": oracle}, clean, SIGMAS, torch.Generator().manual_seed(3),
                              batch=8192)
    for row in table.itertuples():
        s2 = row.sigma**2
        a, b = lam / (lam + s2), mu / (mu + s2)
        expected = {"oracle_mse": np.mean(lam * s2 / (lam + s2)), "mse": np.mean((b - 1) ** 2 * lam + b**2 * s2),
                    "gap": np.mean((b - a) ** 2 * (lam + s2))}
        for name, value in expected.items():
            assert abs(getattr(row, name) - value) < 4 * getattr(row, f"{name}_se"), (row.sigma, name)


def test_the_table_is_a_function_of_the_seed():
    points = torch.randn(30, 12, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    oracles = {"conditioned": denoisers.EmpiricalDenoiser(points),
               "blind": denoisers.BlindEmpiricalDenoiser(points, EDM())}
    clean = torch.randn(10, 12, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    models = {"shrink": lambda x, sigma: x / (1 + sigma**2)}

    def run(seed):
        return ideal_gap.compare(models, oracles, clean, SIGMAS, torch.Generator().manual_seed(seed), batch=4)

    first = run(6)
    assert first.equals(run(6))
    assert not first["gap"].equals(run(7)["gap"])
    assert list(first["oracle"].unique()) == ["conditioned", "blind"] and len(first) == len(SIGMAS) * 2


def test_held_out_images_come_from_the_test_split_or_out_of_train():
    train = np.arange(20 * 3, dtype=np.uint8).reshape(20, 1, 1, 3)
    test = 200 + np.arange(10 * 3, dtype=np.uint8).reshape(10, 1, 1, 3)
    pool, held, where = ideal_gap.held_out(train, test, 4)
    assert pool is train and len(held) == 4 and (held >= 200).all() and where == ideal_gap.HELD_OUT_TEST
    pool, held, where = ideal_gap.held_out(train, None, 4)
    assert len(pool) == 16 and len(held) == 4 and where == ideal_gap.HELD_OUT_TRAIN
    assert not set(held[:, 0, 0, 0]) & set(pool[:, 0, 0, 0])


def test_matching_oracle_and_bad_sigmas():
    assert ideal_gap.matching(True) == "conditioned" and ideal_gap.matching(False) == "blind"
    oracle = diagonal_gaussian([1.0, 2.0])
    with pytest.raises(ValueError, match="positive"):
        ideal_gap.compare({}, {"o": oracle}, oracle.sample(2), [0.5, 0.0], torch.Generator())
