# Covariance spectra of the data sets ({results}/spectrum/{id}.npz) and the figure comparing them.


# Final products of this stage, for rule all.
SPECTRUM_OUTPUTS = [f"{config['figures']}/data_spectra.{ext}" for ext in ("pdf", "png")]


rule spectrum:
    input:
        f"{config['results']}/data/{{name}}/train.npz",
    output:
        spectrum=f"{config['results']}/spectrum/{{name}}.npz",
        eigenvalues=f"{config['results']}/spectrum/{{name}}.eigenvalues.npy",
    log:
        f"{config['results']}/logs/spectrum/{{name}}.log",
    benchmark:
        f"{config['results']}/benchmarks/spectrum/{{name}}.tsv"
    params:
        chunk=config["spectrum"]["chunk"],
    script:
        "../scripts/spectrum.py"


rule spectrum_figure:
    input:
        expand(
            f"{config['results']}/spectrum/{{name}}.npz",
            name=config["spectrum"]["datasets"],
        ),
    output:
        pdf=f"{config['figures']}/data_spectra.pdf",
        png=f"{config['figures']}/data_spectra.png",
        gamma_star=f"{config['results']}/spectrum/gamma_star.json",
    log:
        f"{config['results']}/logs/spectrum/figure.log",
    benchmark:
        f"{config['results']}/benchmarks/spectrum/figure.tsv"
    params:
        names=config["spectrum"]["datasets"],
        gamma_star=config["spectrum"]["gamma_star"],
    script:
        "../scripts/spectrum_figure.py"
