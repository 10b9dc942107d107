"""Snakemake script (rule gaussian_check): a claim check of the Gaussian study (arXiv 2601.13602), the full table as
csv and its summary as md with a provenance caption."""

from diffsched.studies import gaussian_study
from diffsched.infra import provenance, tables
from diffsched.infra.atomic import write_text


def monte_carlo(s: dict, seed: int):
    """The closed-form output against the real samplers; md: the largest |z| per cell."""
    mc = s["monte_carlo"]
    table = gaussian_study.monte_carlo(
        mc["eigenvalues"], mc["mean"], {k: s["strategies"][k] for k in mc["strategies"]}, mc["steps"], mc["solvers"],
        mc["inits"], mc["samples"], s["sigma_min"], s["sigma_max"], seed)
    what = (f"The real samplers (GaussianDenoiser, full covariance in a random basis, d = {len(mc['eigenvalues'])}, "
            f"eigenvalues {mc['eigenvalues']}, mean {mc['mean']}) against the closed-form output mean and covariance: "
            "largest |z| = |empirical - predicted| / standard error per cell (csv: every entry with its standard "
            "error)")
    facts = dict(samples=f"{mc['samples']} per cell", solver=", ".join(mc["solvers"]), start=", ".join(mc["inits"]),
                 seed=seed)
    return table, gaussian_study.max_deviation(table), what, facts


def one_eigenvalue(s: dict, seed: int):
    """The tangent law against the finite-n optimum and gamma* for single eigenvalues; md: the table itself."""
    oe = s["one_eigenvalue"]
    table = gaussian_study.one_eigenvalue(oe["eigenvalues"], oe["steps"], s["sigma_min"], s["sigma_max"])
    what = ("One eigenvalue: the tangent law with gamma = sqrt(lambda) against the finite-n KL optimum (started from "
            "the log-SNR grid) and gamma*: KL ratio, max relative grid difference, gamma* / sqrt(lambda)")
    facts = dict(samples="none (exact closed-form KL)", solver="euler", start="exact", seed="none (no random draws)")
    return table, table, what, facts


def main(check: str, s: dict, seed: int, out_csv: str, out_md: str) -> None:
    table, summary, what, facts = {"monte_carlo": monte_carlo, "one_eigenvalue": one_eigenvalue}[check](s, seed)
    tables.write_csv(table, out_csv)
    caption = provenance.caption(what, source="synthetic Gaussian", sigma=f"[{s['sigma_min']}, {s['sigma_max']}]",
                                 **facts)
    write_text(out_md, tables.markdown(summary, caption))
    print(f"{check}: {len(table)} rows")


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm.wildcards.check, sm.params.settings, sm.params.seed, sm.output.csv, sm.output.md)
