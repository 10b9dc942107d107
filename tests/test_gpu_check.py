"""benchmarks/gpu_check.py: its reduced CPU form runs end to end and prints every figure (so the GPU check cannot
rot where no GPU is), and its full form refuses clearly where there is no CUDA device."""

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"
MODELS = ("unet-with", "unet-without", "dit-with", "dit-without")


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


def positive(text: str) -> float:
    value = float(text.replace(",", ""))
    assert math.isfinite(value) and value > 0, text
    return value


@pytest.mark.slow
def test_reduced_form_prints_every_figure(cache_dir):
    done = run("--reduced", "--cache", str(cache_dir))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert re.search(rf"gpu check \(reduced form\): CPU.*, torch {re.escape(torch.__version__)}, "
                     r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", out)
    rows = [line.strip("|").split("|") for line in out.splitlines() if line.startswith(("| unet", "| dit"))]
    assert sorted({r[0].strip() for r in rows}) == sorted(MODELS) and len(rows) == 2 * len(MODELS)
    assert {r[2].strip() for r in rows} == {"True", "False"}  # torch.compile ran for one model
    for row in rows:  # parameters, warm-up s, train images/s, NFE, sample images/s
        for column in (1, 3, 4, 6, 7):
            positive(row[column])
    fids = dict(item.rsplit(" ", 1) for item in re.search(r"^FID: (.*)$", out, re.M)[1].split(", "))
    assert len(fids) == len(rows) and all(positive(v) for v in fids.values())
    positive(re.search(r"^FID images/s: (\S+)", out, re.M)[1])
    positive(re.search(r"^total: (\S+) s", out, re.M)[1])


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is here")
def test_full_form_without_cuda_names_the_problem():
    done = run()
    assert done.returncode != 0 and "no CUDA device" in done.stderr and "REDUCED=1" in done.stderr
