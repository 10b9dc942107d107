"""Final KL table of one spectrum: csv (tidy) and md (strategies x NFE per solver, best in bold)."""

import sys

import pandas as pd

from diffsched import provenance, ranking
from diffsched.atomic import atomic_path, write_text

sm = snakemake  # noqa: F821 (snakemake is injected)
sys.stderr = sys.stdout = open(sm.log[0], "w")
s = sm.params.settings
table = pd.read_csv(sm.input[0])
table = ranking.mark_best(table[table["nfe_budget"].isin(s["table_nfe"])].reset_index(drop=True))
caption = provenance.caption(
    f"Exact KL(source || output) per strategy and NFE, {sm.params.label}", source="synthetic Gaussian",
    samples="none (exact closed-form KL)", start=s["init"], sigma=f"[{s['sigma_min']}, {s['sigma_max']}]",
    seed="none (no random draws)")
with atomic_path(sm.output[0]) as tmp:
    table.to_csv(tmp, index=False)
write_text(sm.output[1], ranking.to_markdown(table, caption) + "\n")
