"""Snakemake script (rule gaussian_vp_schemes): the exact W2 errors of Pierret & Galerne's VP-SDE schemes
(arXiv 2405.14250, Table 2) on a published spectrum, as csv and as md with a provenance caption."""

from diffsched.data import published_spectra
from diffsched.infra import provenance, tables
from diffsched.infra.atomic import write_text
from diffsched.method import vp_schemes
from diffsched.studies import gaussian_study


def main(s: dict, root: str, out_csv: str, out_md: str) -> None:
    lam, label = published_spectra.load(s["spectrum"], root=root)
    table = tables.write_csv(gaussian_study.vp_scheme_errors(lam, s["steps"], s["epsilons"], s["schemes"]), out_csv)
    wide = table.pivot_table(index=["scheme", "epsilon"], columns=["steps", "start"], values="w2", sort=False)
    wide.columns = [f"{'N = ' + n if n != 'continuous' else n} {start}" for n, start in wide.columns]
    what = ("W2 (not squared) between p_0 = N(0, Sigma) and the exact output of the VP-SDE schemes of Pierret & "
            "Galerne (arXiv 2405.14250): Euler-Maruyama (em) and exponential integrator (ei) on the reverse SDE, "
            "Euler and Heun on the probability-flow ODE, forward SDE dx = -beta x dt + sqrt(2 beta) dW, beta(t) = "
            f"{vp_schemes.BETA_MIN} + {vp_schemes.BETA_MAX - vp_schemes.BETA_MIN:g} t; N uniform time points from "
            "t = 1 to epsilon; start p_T (exact) or N0 = N(0, I); 'continuous': the exact SDE (em, ei) or ODE (euler, "
            "heun) solution at epsilon. Output variances from one run of each real scheme (noise coefficients by "
            "autograd), no sampling")
    caption = provenance.caption(what, source=label, count=f"d = {lam.size} eigenvalues",
                                 solver=", ".join(s["schemes"]), seed="none (no random draws)")
    write_text(out_md, tables.markdown(wide.reset_index(), caption))
    print(f"vp_schemes: {len(table)} rows")


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm.params.settings, sm.params.root, sm.output.csv, sm.output.md)
