"""The ``gpu`` profile: the paper's models and data sizes, fewer epochs, sized so that the four
experiments fit one hour on one H100-class GPU by ``t2d plan``'s arithmetic
(docs/gpu-profile.md). No GPU has measured it: the throughputs below are the documented
assumptions, which ``benchmarks/bench_gpu.py`` replaces with measured ones."""

from __future__ import annotations

import functools

from transforms2d.engine import unique
from transforms2d.engine.plan import costs, seconds
from transforms2d.study import get_experiment, paper_experiments
from transforms2d.study.reproduce import DEFAULT_SEEDS

# docs/gpu-profile.md: assumed H100 training samples/s at 32 px (bf16, channels-last)
ASSUMED_TRAIN = {"resnet18": 30000, "resnet50": 10000, "densenet_cifar": 12000, "vgg11": 60000,
                 "vit": 25000}


@functools.cache
def _grid(profile: str, seeds: int) -> dict:
    return {name: unique(get_experiment(name).specs(profile, seeds))
            for name in paper_experiments()}


def test_gpu_keeps_the_paper_models_and_data_sizes_with_five_seeds():
    assert DEFAULT_SEEDS["gpu"] == 5
    gpu, paper = _grid("gpu", 5), _grid("paper", 1)  # models and sizes do not vary by seed
    for name in paper_experiments():
        assert {s.model for s in gpu[name]} == {s.model for s in paper[name]}
        assert max(s.source["n"] for s in gpu[name]) >= 50000
        assert max(s.train["epochs"] for s in gpu[name] if s.source["n"] == 50000) < \
            min(s.train["epochs"] for s in paper[name] if s.source["n"] == 50000)
        assert all(s.train["stop_train_acc"] == 0.97 for s in gpu[name])


def test_gpu_fits_one_hour_at_the_assumed_throughputs():
    total = 0.0
    for specs in _grid("gpu", DEFAULT_SEEDS["gpu"]).values():
        c = costs(specs)
        speed = {k: {"train": ASSUMED_TRAIN[k[0]], "infer": 3 * ASSUMED_TRAIN[k[0]]}
                 for k in c.architectures()}
        total += sum(seconds(c, speed).values())
    assert total <= 3600, f"{total / 60:.1f} min"
