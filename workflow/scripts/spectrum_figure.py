"""Snakemake script (rule spectrum_figure): eigenvalue spectra of the data sets, log-log, gamma*^2 marked.

gamma* is the tangent-law coefficient minimising the exact Gaussian KL at the configured n
(diffsched.gaussian.gamma_star); it is drawn as the eigenvalue gamma*^2, the one for which it is optimal alone.
"""

from contextlib import redirect_stderr, redirect_stdout

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from diffsched import gaussian, spectrum, store


def main(names: list, paths: list, g: dict, out_pdf: str, out_png: str, out_json: str) -> None:
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    table = {}
    for name, path in zip(names, paths):
        spec = spectrum.load(path, vectors=False)
        lam = spec.eigenvalues
        gamma = gaussian.gamma_star(lam, g["n"], g["sigma_min"], g["sigma_max"], g["solver"])
        res = spec.meta["resolution"]
        label = f"{spec.meta['label']}, {res}x{res}"
        table[name] = {"label": label, "gamma_star": gamma, "dimension": int(lam.size), "n_floored": spec.n_floored}
        (line,) = ax.loglog(np.arange(1, lam.size + 1), lam, label=f"{label}: $\\gamma^*$ = {gamma:.3g}")
        ax.axhline(gamma**2, color=line.get_color(), linestyle="--", linewidth=0.8)
        print(f"{name}: gamma* = {gamma:.6g} ({g['solver']}, n = {g['n']}), {spec.n_floored} eigenvalues floored")
    ax.axhline(spectrum.QUANTISATION_FLOOR, color="0.5", linestyle=":", linewidth=0.8,
               label="floor $(2/255)^2/12$ (8-bit quantisation)")
    ax.set_xlabel("eigenvalue index")
    ax.set_ylabel("eigenvalue (pixels in [-1, 1])")
    ax.set_title(f"Data covariance spectra; dashed: $\\gamma^{{*2}}$ ({g['solver']}, n = {g['n']})", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_pdf)
    fig.savefig(out_png, dpi=150)
    store.save_json(out_json, {"settings": g, "datasets": table})


sm = snakemake  # noqa: F821 (injected by Snakemake)
with open(sm.log[0], "w") as log, redirect_stdout(log), redirect_stderr(log):
    main(sm.params.names, list(sm.input), sm.params.gamma_star, sm.output.pdf, sm.output.png, sm.output.gamma_star)
