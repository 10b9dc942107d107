"""Sample files record their own cell (diffsched.studies.sweep.cell_arrays, load_cell), and the sweep's metrics rows
take each cell from its file, whatever order the files come in (sweep.metric_rows)."""

import random

import numpy as np
import pandas as pd
import pytest

from diffsched.method import gaussian
from diffsched.studies import sweep

CELLS = [{"dataset": "cifar10", "denoiser": "gaussian", "solver": solver, "nfe": nfe, "seed": seed}
         for solver, nfe, seed in [("euler", 4, 0), ("euler", 4, 1), ("heun", 6, 0), ("euler", 10, 0)]]


def write_sample_file(path, cell, strategies=("edm", "kl_optimal")):
    """A sample file of `cell` whose criteria encode it: criterion i of strategy j is nfe + seed / 10 + i + j / 100."""
    value = cell["nfe"] + cell["seed"] / 10
    criteria = {f"criterion_{name}": np.array([value + i + j / 100 for j in range(len(strategies))])
                for i, name in enumerate(gaussian.CRITERIA)}
    np.savez(path, strategies=np.array(strategies), nfe=np.full(len(strategies), cell["nfe"] - 1), **criteria,
             **sweep.cell_arrays(cell))
    return path


def test_a_sample_file_gives_back_the_cell_it_records(tmp_path):
    path = write_sample_file(tmp_path / "a.npz", CELLS[2])
    cell, arrays = sweep.load_cell(path)
    assert cell == CELLS[2] and isinstance(cell["nfe"], int) and isinstance(cell["seed"], int)
    assert list(arrays["strategies"]) == ["edm", "kl_optimal"]
    model = {"dataset": "celeba16", "model": "unet-without"}
    np.savez(tmp_path / "b.npz", **sweep.cell_arrays(model, sweep.ABLATION_CELL))
    assert sweep.load_cell(tmp_path / "b.npz", sweep.ABLATION_CELL)[0] == model


def test_a_cell_names_exactly_its_fields():
    with pytest.raises(ValueError, match="dataset, denoiser, solver, nfe, seed"):
        sweep.cell_arrays({"dataset": "cifar10", "model": "unet-with"})


def test_a_file_without_its_cell_is_named_in_the_error(tmp_path):
    bare = tmp_path / "seed0.npz"
    np.savez(bare, strategies=np.array(["edm"]))
    with pytest.raises(ValueError, match=rf"{bare} does not record its cell's dataset, denoiser, solver, nfe, seed"):
        sweep.load_cell(bare)
    ablation = tmp_path / "samples.npz"
    np.savez(ablation, **sweep.cell_arrays({"dataset": "cifar10", "model": "unet-with"}, sweep.ABLATION_CELL))
    with pytest.raises(ValueError, match=rf"{ablation} does not record its cell's denoiser, solver, nfe, seed"):
        sweep.load_cell(ablation)


def metrics_table(paths) -> pd.DataFrame:
    """The metrics rows of the sample files, as sweep_metrics builds them, in a fixed order."""
    rows = [row for path in paths for row in sweep.metric_rows(*sweep.load_cell(path))]
    return pd.DataFrame(rows).sort_values(["solver", "nfe_budget", "seed", "strategy"], ignore_index=True)


def test_metric_rows_take_each_cell_from_its_file_in_any_order(tmp_path):
    paths = [write_sample_file(tmp_path / f"{i}.npz", cell) for i, cell in enumerate(CELLS)]
    table = metrics_table(paths)
    for order in range(3):
        shuffled = random.Random(order).sample(paths, len(paths))
        assert shuffled != paths
        pd.testing.assert_frame_equal(metrics_table(shuffled), table)
    assert len(table) == 2 * len(CELLS)
    for row in table.itertuples():
        value = row.nfe_budget + row.seed / 10 + (row.strategy == "kl_optimal") / 100
        assert row.kl_forward == pytest.approx(value + list(gaussian.CRITERIA).index("kl"))
        assert row.nfe == row.nfe_budget - 1 and row.dataset == "cifar10" and row.denoiser == "gaussian"
    heun = table[table["solver"] == "heun"]
    assert list(heun["nfe_budget"]) == [6, 6] and list(heun["seed"]) == [0, 0]
