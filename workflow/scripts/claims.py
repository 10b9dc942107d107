"""Snakemake script (rule claims): the replication's verdicts, one row per claim, from the other rules' tables
(diffsched.studies.claims)."""

import os

import pandas as pd

from diffsched.data import published_spectra
from diffsched.studies import claims
from diffsched.infra import provenance, tables
from diffsched.method import solvers
from diffsched.infra.atomic import write_text


def spectrum_pattern(folder: str, paths, spectra) -> str:
    """A per-spectrum input's file under ``folder`` (its {spectrum} unfilled), checked against its ``paths``."""
    pattern = os.path.join(folder, os.path.basename(paths[0]))
    if [os.path.normpath(pattern.format(spectrum=s)) for s in spectra] != [os.path.normpath(p) for p in paths]:
        raise ValueError(f"the per-spectrum input {list(paths)} is not {pattern} for the spectra {spectra}")
    return pattern


def read(sm) -> tuple[dict, dict]:
    """The rule's inputs by name: their tables (a per-spectrum input's as {spectrum: table}) and their files."""
    spectra, found, files = sm.params.spectra, {}, {}
    for key, value in sm.input.items():
        dtype = claims.DTYPES.get(key)
        if isinstance(value, str):
            found[key], files[key] = pd.read_csv(value, dtype=dtype), value
        else:
            found[key] = {s: pd.read_csv(p, dtype=dtype) for s, p in zip(spectra, value, strict=True)}
            files[key] = spectrum_pattern(sm.params.spectrum_tables, value, spectra)
    return found, files


def main(sm) -> None:
    context = {
        "labels": sm.params.labels,
        "vp_label": published_spectra.SPECTRA[sm.params.vp_spectrum].label,
        "stochastic_solvers": list(solvers.STOCHASTIC_SOLVERS),
        "stochastic_samplers": [k for k, s in sm.params.samplers.items()
                                if s["solver"] in solvers.STOCHASTIC_SOLVERS],
    }
    found = claims.evaluate(*read(sm), sm.params.roots, context)
    table = tables.write_csv(claims.table(found), sm.output.csv)
    caption = provenance.caption(
        "The replication's claims and their verdicts (arXiv 2601.13602; arXiv 2606.20416; Sun et al. 2025; "
        "Pierret & Galerne 2025, arXiv 2405.14250), each "
        "decided by a rule, never by hand. " + claims.VERDICT_RULE + ". Each row's cell rule says what a cell is "
        "and which side is claimed; 'measured' shows its least and most favourable cells; {results} and {figures} in "
        "'artefact' are the run's folders (config keys results and figures)",
        seed=sm.params.seed)
    write_text(sm.output.md, tables.markdown(table, caption))
    for c in found:
        print(f"{c.row()['verdict']:>28}  {c.claim}")


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
