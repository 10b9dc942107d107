"""Snakemake script (rule train): train one network variant on one data set (diffsched.models.training), resuming from
the checkpoint in its state folder when a killed run left one, then save the EMA weights and the loss log."""

from pathlib import Path

import torch

from diffsched.data import datasets
from diffsched.models import checkpoints, nets, training
from diffsched.infra import provenance
from diffsched.infra.atomic import write_text


def main(sm) -> None:
    torch.set_num_threads(sm.threads)
    tr = sm.params.training
    images, _, meta = datasets.load(sm.input.train)
    model_spec = checkpoints.spec(tr, sm.wildcards.model, int(meta["resolution"]))
    torch.manual_seed(tr["seed"])
    net, preconditioning = checkpoints.build(model_spec)
    config = training.TrainConfig(
        steps=tr["steps"], batch_size=tr["batch_size"], lr=tr["lr"], betas=tuple(tr["betas"]),
        ema_decay=training.ema_decay(tr["ema_halflife_images"], tr["batch_size"]), seed=tr["seed"],
        checkpoint_every=tr["checkpoint_every"], log_every=tr["log_every"], precision=tr["precision"],
        compile=tr["compile"])
    device = checkpoints.device(tr["device"])
    print(f"{sm.wildcards.model} on {meta['label']} ({len(images)} images), {nets.count_parameters(net):,} "
          f"parameters, {device}: {config}", flush=True)
    ema = training.train(net, preconditioning, images, sm.params.state, config, device=device,
                      run={"spec": model_spec})
    write_text(sm.output.loss, (Path(sm.params.state) / training.LOG).read_text())
    checkpoints.save(ema.cpu(), model_spec, sm.output.weights, sm.output.spec, steps=config.steps,
                 batch_size=config.batch_size, parameters=nets.count_parameters(net),
                 dataset=sm.wildcards.dataset, data_label=meta["label"], train_images=len(images))


sm = snakemake  # noqa: F821 (injected by Snakemake)
with provenance.job(sm):
    main(sm)
