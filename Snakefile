# diffsched: every figure and table of the replication. `snakemake --cores all` runs the default
# configuration (config.yaml); overlays in workflow/configs/ (smoke, paper) are added with --configfile.
from snakemake.utils import min_version, validate

from diffsched.infra import slurm_guard
from diffsched.interface import workflow_config

min_version("9.0")


configfile: "config.yaml"


# The library's default strategies (diffsched.method.strategies.DEFAULTS), under the configuration's own entries.
config["strategies"] = workflow_config.strategies_with_defaults(config)


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
include: "workflow/rules/blind.smk"
include: "workflow/rules/claims.smk"


localrules:
    all,


onstart:
    # Under the slurm executor: stop the run when SLURM can never start one of its jobs (diffsched.infra.slurm_guard).
    if (
        workflow.executor_plugin is not None
        and workflow.executor_plugin.cli_prefix == "slurm"
    ):
        slurm_guard.watch(os.getcwd())


rule all:
    input:
        gaussian_outputs(),
        rules.ranking_outputs.output,
        [F("data", f"kl_vs_nfe_{name}.{e}") for name in RANKED for e in ("pdf", "png")],
        [
            F("data", f"{name}_vs_copy.{e}")
            for name in COMPARED
            for e in ("csv", "md", "pdf", "png")
        ],
        rules.sweep_outputs.output,
        rules.ablation_outputs.output,
        rules.probe_outputs.output,
        rules.blind_outputs.output,
        rules.claims.output,


unknown = set(config["resources"]) - {"default"} - {r.name for r in workflow.rules}
if unknown:
    raise WorkflowError(
        f"config resources names {sorted(unknown)}, which are not rules of this workflow; "
        f"rules: {sorted(r.name for r in workflow.rules)}"
    )
