"""Jobs SLURM can never start are recognised from squeue/sinfo output (the real formats, written out here)."""

from diffsched.infra import slurm_guard

SINFO = "node1|debug*|2|24105|(null)\nnode2|gpu|32|256000|gpu:a100:4(S:0-1)\nnode3|gpu|16|128000|gpu:a100:2\n"


def squeue_line(reason="None", state="PENDING", partition="debug", cpus=1, mem="2000M", tres="N/A",
                comment="rule_train_wildcards_cifar10_unet-with", jobid="42", workdir="/work/repo"):
    return f"{jobid}|{comment}|{state}|{reason}|{partition}|{cpus}|{mem}|{tres}|{workdir}"


def test_units_and_names():
    assert [slurm_guard.memory_mb(x) for x in ("2000M", "32G", "1T", "512", "0", "")] == [
        2000, 32768, 1048576, 512, 0, 0]
    assert [slurm_guard.gpu_count(x) for x in ("N/A", "(null)", "gres/gpu:1", "gpu:a100:4(S:0-1)", "gres:gpu:2")] == [
        0, 0, 1, 4, 2]
    assert slurm_guard.rule_of("rule_gaussian_table_wildcards_powerlaw_em_ratio") == "gaussian_table"
    assert slurm_guard.rule_of("rule_sweep_outputs") == "sweep_outputs"
    assert slurm_guard.rule_of("my other job") is None


def test_parse_keeps_only_the_executors_jobs():
    text = "\n".join([squeue_line(), squeue_line(comment="interactive", jobid="7"), "garbage"])
    [job] = slurm_guard.parse_jobs(text)
    assert (job.jobid, job.rule, job.cpus, job.mem_mb, job.gpus) == ("42", "train", 1, 2000, 0)
    nodes = slurm_guard.parse_nodes(SINFO)
    assert [(n.name, n.partition, n.cpus, n.mem_mb, n.gpus) for n in nodes] == [
        ("node1", "debug", 2, 24105, 0), ("node2", "gpu", 32, 256000, 4), ("node3", "gpu", 16, 128000, 2)]


def test_never_runs():
    nodes = slurm_guard.parse_nodes(SINFO)

    def verdict(**kw):
        [job] = slurm_guard.parse_jobs(squeue_line(**kw))
        return slurm_guard.never_runs(job, nodes)

    assert verdict() is None                                      # fits node1, waiting its turn
    assert verdict(reason="Resources") is None                    # busy, but fits
    assert verdict(reason="Priority", partition="gpu", cpus=32, tres="gres/gpu:4") is None
    assert verdict(state="RUNNING", cpus=64) is None              # running jobs are the executor's business
    assert verdict(reason="PartitionConfig") == "pending for PartitionConfig"
    assert verdict(reason="InvalidAccount") == "pending for InvalidAccount"
    assert verdict(reason="Resources", cpus=4) == "no node of its partition is that large"
    assert verdict(mem="32000M") == "no node of its partition is that large"
    assert verdict(partition="gpu", cpus=16, tres="gres/gpu:8") == "no node of its partition is that large"
    assert verdict(partition="nosuch") == "partition 'nosuch' has no nodes"


def test_message_names_rule_request_and_offer():
    nodes = slurm_guard.parse_nodes(SINFO)
    [job] = slurm_guard.parse_jobs(squeue_line(reason="PartitionConfig", cpus=4, mem="32000M"))
    text = slurm_guard.explain(job, slurm_guard.never_runs(job, nodes), nodes)
    for part in ("rule train", "job 42", "PartitionConfig", "4 CPUs", "32000 MB", "'debug'", "node1: 2 CPUs, 24105 MB",
                 "config resources", "threads"):
        assert part in text, (part, text)
