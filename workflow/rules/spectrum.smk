# Covariance spectra of the data sets: {results}/spectrum/{id}.npz (+ .eigenvalues.npy for the CLI), and the
# Gaussian models of published spectra on a copy's eigenvectors (spectrum.published).
rule spectrum:
    input:
        R("data/{name}/train.npz"),
    output:
        spectrum=R("spectrum/{name}.npz"),
        eigenvalues=R("spectrum/{name}.eigenvalues.npy"),
    log:
        R("logs/spectrum/{name}.log"),
    benchmark:
        R("benchmarks/spectrum/{name}.tsv")
    wildcard_constraints:
        name="|".join(config["data"]["datasets"]),
    conda:
        "../../environment.yml"
    resources:
        **job_resources("spectrum"),
    params:
        chunk=config["spectrum"]["chunk"],
    script:
        "../scripts/spectrum.py"


rule spectrum_published:
    input:
        basis=lambda w: R("spectrum", f"{PUBLISHED[w.name]['basis']}.npz"),
        published=lambda w: published_file(PUBLISHED[w.name]["eigenvalues"]),
    output:
        spectrum=R("spectrum/{name}.npz"),
        eigenvalues=R("spectrum/{name}.eigenvalues.npy"),
    log:
        R("logs/spectrum/{name}.log"),
    benchmark:
        R("benchmarks/spectrum_published/{name}.tsv")
    wildcard_constraints:
        name="|".join(PUBLISHED) or "(?!)",
    conda:
        "../../environment.yml"
    resources:
        **job_resources("spectrum_published"),
    params:
        eigenvalues=lambda w: PUBLISHED[w.name]["eigenvalues"],
    script:
        "../scripts/spectrum_published.py"
