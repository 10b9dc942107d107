# The replication's verdicts (diffsched.studies.claims): one row per claim from the other rules' tables. Its report
# category sorts first (the report lists categories alphabetically).
# Each input is read once, by its name, for the claims that declare it (claims.claim(...)).
rule claims:
    input:
        em_ratio=expand(R("gaussian/{spectrum}/em_ratio.csv"), spectrum=SPECTRA),
        gamma_sweep=expand(R("gaussian/{spectrum}/gamma_sweep.csv"), spectrum=SPECTRA),
        gamma_star=expand(R("gaussian/{spectrum}/gamma_star.csv"), spectrum=SPECTRA),
        monte_carlo=F("gaussian/monte_carlo.csv"),
        one_eigenvalue=F("gaussian/one_eigenvalue.csv"),
        vp_schemes=rules.gaussian_vp_schemes.output.csv,
        vp_published="workflow/published/pierret_galerne_2025_table2.csv",
        extremal=rules.gaussian_extremal.output.csv,
        sweep=rules.sweep_outputs.output.bootstrap_csv,
        blind=rules.blind_outputs.output.csv,
        ablation=rules.ablation_outputs.output.table_csv,
        probe=rules.probe_outputs.output.csv,
    output:
        csv=report(
            F("claims.csv"),
            caption="../report/claims.rst",
            category="Claims and verdicts",
        ),
        md=F("claims.md"),
    log:
        R("logs/claims.log"),
    benchmark:
        R("benchmarks/claims.tsv")
    conda:
        "../../environment.yml"
    resources:
        **job_resources("claims"),
    params:
        spectra=SPECTRA,
        labels={s: G["spectra"][s]["label"] for s in SPECTRA},
        vp_spectrum=G["vp_schemes"]["spectrum"],
        spectrum_tables=lambda w: R("gaussian", "{spectrum}"),
        samplers=config["training"]["samplers"],
        seed=config["seed"],
        roots={"results": config["results"], "figures": config["figures"]},
    script:
        "../scripts/claims.py"
