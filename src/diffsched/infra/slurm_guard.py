"""Stop a SLURM run whose jobs the cluster can never start, instead of letting Snakemake wait forever.

SLURM accepts a job that asks for more than its partition allows or than any node has (``EnforcePartLimits=NO``,
its default) and leaves it PENDING with a reason such as ``PartitionConfig``; the executor plugin polls such a job
for ever. ``watch`` (started by the Snakefile's ``onstart`` under the slurm executor) polls ``squeue`` for this
workflow's jobs; when one is pending for a reason that cannot clear by itself, or asks for more than every node of
its partition offers, it prints the rule, its request and the partition's nodes, cancels the workflow's jobs and
interrupts Snakemake, which then exits with an error. A job sbatch refuses outright (an unknown partition or
account) already fails at submission with sbatch's message.
"""

from __future__ import annotations

import getpass
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass

# Pending reasons that no amount of waiting clears (squeue(1), "JOB REASON CODES").
NEVER = frozenset({
    "PartitionConfig", "PartitionNodeLimit", "PartitionTimeLimit", "PartitionDown", "PartitionInactive",
    "InvalidAccount", "InvalidQOS", "BadConstraints", "QOSMaxCpuPerJobLimit", "QOSMaxMemoryPerJob",
    "QOSMaxWallDurationPerJobLimit", "AssocMaxCpuPerJobLimit", "AssocMaxWallDurationPerJobLimit",
})
SQUEUE_FORMAT = "%i|%k|%T|%r|%P|%C|%m|%b|%Z"
SINFO_FORMAT = "%N|%R|%c|%m|%G"


@dataclass(frozen=True)
class Node:
    name: str
    partition: str
    cpus: int
    mem_mb: int
    gpus: int


@dataclass(frozen=True)
class Job:
    jobid: str
    rule: str
    state: str
    reason: str
    partition: str
    cpus: int
    mem_mb: int
    gpus: int
    workdir: str


def memory_mb(text: str) -> int:
    """SLURM's memory notation (``2000M``, ``32G``, ``1T``, plain MB) in MB; 0 where none is set."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)", text.strip())
    if not m:
        return 0
    scale = {"K": 1 / 1024, "": 1, "M": 1, "G": 1024, "T": 1024 ** 2}[m[2]]
    return int(float(m[1]) * scale)


def gpu_count(text: str) -> int:
    """GPUs in a gres/tres string (``gpu:2``, ``gres/gpu:a100:1``, ``gpu:a100:2(S:0)``); 0 for none or N/A."""
    return sum(int(n) for n in re.findall(r"gpu(?::[A-Za-z0-9_-]+)?:(\d+)", text))


def rule_of(comment: str) -> str | None:
    """The rule of a job the slurm executor submitted (its comment is ``rule_<rule>[_wildcards_<values>]``)."""
    if not comment.startswith("rule_"):
        return None
    return comment[len("rule_"):].split("_wildcards_")[0]


def parse_nodes(sinfo_text: str) -> list[Node]:
    """Nodes from ``sinfo -h -N -o SINFO_FORMAT`` (one line per node and partition)."""
    nodes = []
    for line in sinfo_text.splitlines():
        if line.strip():
            name, partition, cpus, mem, gres = line.split("|")
            nodes.append(Node(name, partition.rstrip("*"), int(cpus), memory_mb(mem), gpu_count(gres)))
    return nodes


def parse_jobs(squeue_text: str) -> list[Job]:
    """The executor's jobs in ``squeue -h -o SQUEUE_FORMAT`` output; other jobs are left out."""
    jobs = []
    for line in squeue_text.splitlines():
        fields = line.split("|")
        if len(fields) != 9 or rule_of(fields[1]) is None:
            continue
        jobid, comment, state, reason, partition, cpus, mem, tres, workdir = fields
        jobs.append(Job(jobid, rule_of(comment), state, reason, partition, int(cpus), memory_mb(mem),
                        gpu_count(tres), workdir))
    return jobs


def fits(job: Job, node: Node) -> bool:
    return node.cpus >= job.cpus and node.mem_mb >= job.mem_mb and node.gpus >= job.gpus


def never_runs(job: Job, nodes: list[Node]) -> str | None:
    """Why a pending job can never start (a reason SLURM gives, or no node of its partition big enough), or None."""
    if job.state != "PENDING":
        return None
    if job.reason in NEVER:
        return f"pending for {job.reason}"
    partition = [n for n in nodes if n.partition == job.partition]
    if not partition:
        return f"partition {job.partition!r} has no nodes"
    if not any(fits(job, n) for n in partition):
        return "no node of its partition is that large"
    return None


def explain(job: Job, why: str, nodes: list[Node]) -> str:
    """The message for a job that can never run: rule, request, what the cluster offers, what to change."""
    offer = "; ".join(f"{n.name}: {n.cpus} CPUs, {n.mem_mb} MB, {n.gpus} GPUs"
                      for n in nodes if n.partition == job.partition) or "no nodes"
    partitions = sorted({n.partition for n in nodes})
    return (
        f"SLURM can never run rule {job.rule} (job {job.jobid}, {why}): it asks for {job.cpus} CPUs, "
        f"{job.mem_mb} MB and {job.gpus} GPUs in partition {job.partition!r}, whose nodes offer {offer} "
        f"(partitions: {', '.join(partitions)}). Lower the rule's threads (config threads) or its entry under "
        f"config resources, or send it to a larger partition (slurm_partition in profiles/slurm/config.yaml)."
    )


def _query(cmd: list[str]) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout


def check(workdir: str) -> tuple[list[str], list[str]]:
    """This workflow's jobs (submitted from ``workdir``): messages for those SLURM can never run, and every job id."""
    jobs = parse_jobs(_query(["squeue", "-h", "-u", getpass.getuser(), "-o", SQUEUE_FORMAT]))
    jobs = [j for j in jobs if os.path.realpath(j.workdir) == os.path.realpath(workdir)]
    if not any(j.state == "PENDING" for j in jobs):
        return [], [j.jobid for j in jobs]
    nodes = parse_nodes(_query(["sinfo", "-h", "-N", "-o", SINFO_FORMAT]))
    return [explain(j, why, nodes) for j in jobs if (why := never_runs(j, nodes))], [j.jobid for j in jobs]


def _stop(messages: list[str], jobids: list[str]) -> None:
    print("\n".join(["", *(f"diffsched: {m}" for m in messages), "diffsched: stopping the run.", ""]),
          file=sys.stderr, flush=True)
    subprocess.run(["scancel", *jobids], check=False)
    os.kill(os.getpid(), signal.SIGINT)  # Snakemake cancels what is left and exits with an error


def watch(workdir: str, interval: float = 15.0) -> threading.Thread:
    """Poll every ``interval`` seconds in a daemon thread; stop the run at the first job that can never start."""
    def loop():
        event = threading.Event()
        while not event.wait(interval):
            try:
                messages, jobids = check(workdir)
            except (OSError, subprocess.SubprocessError):
                continue  # squeue briefly unavailable: the executor reports persistent failures itself
            if messages:
                _stop(messages, jobids)
                return

    thread = threading.Thread(target=loop, name="diffsched-slurm-guard", daemon=True)
    thread.start()
    return thread
