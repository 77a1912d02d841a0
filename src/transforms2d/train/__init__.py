"""Pretraining, linear probes (cached and reference) and full fine-tuning."""

from .checkpoint import load_checkpoint, save_checkpoint
from .config import ProbeConfig, TrainConfig, recipe_for, resolve_device, vit_config
from .features import FeatureCache, extract_features
from .finetune import finetune
from .loop import EvalSet, TrainingDiverged, TrainResult, evaluate, predict, train
from .probe import ProbeResult, linear_probe, reference_probe

__all__ = [
    "EvalSet", "FeatureCache", "ProbeConfig", "ProbeResult", "TrainConfig", "TrainResult",
    "TrainingDiverged", "evaluate", "extract_features", "finetune", "linear_probe",
    "load_checkpoint", "predict", "recipe_for", "reference_probe", "resolve_device",
    "save_checkpoint", "train", "vit_config",
]
