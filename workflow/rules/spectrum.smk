# Covariance spectra of the data sets: {results}/spectrum/{id}.npz (+ .eigenvalues.npy for the CLI).
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
    conda:
        "../../environment.yml"
    resources:
        **job_resources("spectrum"),
    params:
        chunk=config["spectrum"]["chunk"],
    script:
        "../scripts/spectrum.py"
