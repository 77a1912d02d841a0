"""The options of ``t2d run`` and ``t2d reproduce`` as annotated types: one definition each,
so a command's signature is one line per option and the two commands say the same thing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import int_option

SeedOffset = Annotated[int, int_option(help="First seed (--seeds 5 --seed-offset 5: seeds 5-9, "
                                            "e.g. fresh seeds nobody has seen).")]
Device = Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")]
Rehearse = Annotated[bool, typer.Option(help=(
    "Rehearse: every distinct kind of run of the grid (each model, each kind of stage) for 2 "
    "optimiser steps at its real sizes, reports included, into a folder marked as a rehearsal "
    "(never results)."))]
RehearseBatch = Annotated[int | None, int_option(help=(
    "With --rehearse: cap every batch at N samples (models and images keep their real size; "
    "for a CPU that cannot afford a paper batch)."))]
Compile = Annotated[bool, typer.Option("--compile", help=(
    "torch.compile each run's pretraining (compiled graphs cached in $T2D_CACHE/inductor and "
    "reused by runs of the same shape); pays off on GPUs."))]
GpusPerRun = Annotated[float | None, typer.Option(help=(
    "With --executor ray and a CUDA device: the GPU share of one run, e.g. 0.25 runs four "
    "small runs on each GPU (default 1)."))]

SharedStore = Annotated[bool, typer.Option("--shared-store", help=(
    "With --executor ray: the Ray workers write into --out themselves (it must be on a "
    "filesystem every node mounts at the same path) instead of returning each run's files "
    "to this process."))]

# t2d run
Experiment = Annotated[str | None, typer.Argument(
    help="Experiment name (see `t2d experiments`); none with --config.")]
RunProfile = Annotated[str, typer.Option("--profile", help=(
    "Size profile, e.g. smoke, quick or paper (`t2d experiments` lists each one's)."))]
RunSeeds = Annotated[int, int_option("--seeds", help="Seeds per configuration.")]
RunOut = Annotated[Path | None, typer.Option("--out", help=(
    "Experiment folder (default: results/EXPERIMENT)."))]
RunExecutor = Annotated[str, typer.Option("--executor", help=(
    "local (in-process, one run at a time), pool (--workers local processes) or ray (one Ray "
    "task per run)."))]
RunWorkers = Annotated[int | None, int_option("--workers", help=(
    "Worker processes of --executor pool (default: one per CPU, one torch thread each)."))]
RunRayAddress = Annotated[str | None, typer.Option("--ray-address", help=(
    "Ray cluster to join (HEAD:6379 or auto); default: start a local one. Needs --executor "
    "ray."))]
Config = Annotated[Path | None, typer.Option(help=(
    "Your own grid from a YAML/TOML/JSON file (models, source, probes, invariance, seeds); see "
    "examples/."))]
Log = Annotated[str, typer.Option(help=(
    "Experiment trackers, comma list: csv (OUT/logs/metrics.csv), tensorboard, mlflow, wandb "
    "(offline); each run is logged when it finishes."))]
Sets = Annotated[list[str] | None, typer.Option("--set", help=(
    "Override a size of the profile: key=value, parsed by the size's type and checked against "
    "its range (repeatable; an unknown key lists the valid ones), e.g. --set model=convnet_s "
    "--set epochs=20, --set budgets=0.5,1, --set kind_epochs=rand:200, --set "
    "finetune.epochs=20."))]

# t2d reproduce
ReproduceProfile = Annotated[str, typer.Option("--profile", help=(
    "quick (~30 min on a 2-core CPU; too small for a fair test), cpu (the fair test at CPU "
    "sizes: hours on 2 cores, see t2d plan), smoke (seconds, for tests), gpu (paper models and "
    "data, fewer epochs: <= 1 h on one H100 by the plan) or paper (the authors' sizes; "
    "GPUs)."))]
ReproduceOut = Annotated[Path | None, typer.Option("--out", help=(
    "Output folder: one experiment folder per experiment and REPORT.md (default: results, or "
    "rehearsal with --rehearse)."))]
ReproduceSeeds = Annotated[int | None, int_option("--seeds", help=(
    "Seeds per configuration (default: 3; 5 for cpu, 10 for paper)."))]
Experiments = Annotated[str | None, typer.Option(help=(
    "Comma-separated experiments to run (default: every registered paper experiment, "
    "e1,e2,e3,e4)."))]
ReproduceExecutor = Annotated[str | None, typer.Option("--executor", help=(
    "local, pool or ray (default: pool on a CPU with several cores, else local)."))]
ReproduceWorkers = Annotated[int | None, int_option("--workers", help=(
    "Worker processes of the pool executor (default: one per CPU)."))]
ReproduceRayAddress = Annotated[str | None, typer.Option("--ray-address", help=(
    "Ray cluster to join (with --executor ray)."))]
ShowPlan = Annotated[bool, typer.Option("--plan/--no-plan", help=(
    "Print the cost plan of the runs not done yet first (t2d plan; not with --executor ray or "
    "--rehearse)."))]
