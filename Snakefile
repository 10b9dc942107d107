# diffsched: every figure and table of the replication. `snakemake --cores all` runs the default
# configuration (config.yaml); overlays in workflow/configs/ (smoke, paper) are added with --configfile.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/gaussian.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/spectrum.smk"
include: "workflow/rules/ranking.smk"
include: "workflow/rules/ablation.smk"
include: "workflow/rules/sweep.smk"
include: "workflow/rules/probe.smk"


localrules:
    all,


rule all:
    input:
        gaussian_outputs(),
        rules.ranking_outputs.output,
        rules.sweep_outputs.output,
        rules.ablation_outputs.output,
        rules.probe_outputs.output,
