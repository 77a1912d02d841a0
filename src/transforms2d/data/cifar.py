"""``TransformedCIFAR``: the Transforms-2D transformations applied to whole CIFAR images
(docs/protocol.md §6 E1 "CIFAR variant", and the CIFAR domains of E3).

It has the API of :class:`~transforms2d.data.Transforms2D` (``render``, ``loader``, ``order``,
``with_transform_seed``, ``twin``, ``with_split``, ``to``, ``set_epoch``, ``num_classes``,
``spec.n``...),
so training, linear probes and the invariance metric take it unchanged.

Pointing the package at CIFAR: pass ``root=`` (the folder that holds ``cifar-10-batches-py/`` or
``cifar-10-python.tar.gz``, likewise for CIFAR-100), or set ``$T2D_CIFAR_ROOT``; otherwise
``$T2D_CACHE/cifar`` and ``~/.cache/transforms2d/cifar`` are searched, and ``download=True``
fetches the official archive there (see :mod:`transforms2d.assets.cifar`).

Conventions:
- Splits: ``train`` and ``val`` are disjoint parts of CIFAR train (``val`` = the last 10% of
  each class in archive order: 4,500 + 500 per CIFAR-10 class, 450 + 50 per CIFAR-100 class),
  ``test`` is CIFAR test (:func:`~transforms2d.assets.cifar.split_index`).
- Transforms: each image gets an opaque alpha channel and the transform list is applied exactly
  as the Transforms-2D renderer applies it to an object canvas (same samplers, appliers and
  random streams), then composited onto black: pixels that geometric transforms bring in from
  outside the image, and erased squares, are black. ``translate`` cannot move a box that fills
  the canvas, so on whole images it shifts the image by integers uniform in ``[-r, r]`` along
  each axis, ``r = round(0.15 * 32) = 5`` px: the shifts a Transforms-2D object gets about the
  centre, symmetric (the original code shifted CIFAR images right/down only, docs/protocol.md §8).
- Sample ``i`` is a pure function of (dataset definition, split, i, epoch for train, transform
  seed), whatever the batch size, order, worker count or device.
- Normalisation ``"cifar"`` (default): per-channel ``(x - mean) / std`` with the pixel statistics
  of the 50,000 training images, CIFAR-10 mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435,
  0.2616); CIFAR-100 mean (0.5071, 0.4865, 0.4409), std (0.2673, 0.2564, 0.2762). (The original
  code used std (0.2023, 0.1994, 0.2010) for CIFAR-10, the mean of per-image stds.) ``"half"``
  is Transforms-2D's mean 0.5 / std 0.5 to [-1, 1]: use it to feed CIFAR to models trained on
  Transforms-2D (E3).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from .. import DEFAULT_IMAGE_SIZE
from ..assets.cifar import FORMATS, default_root, load_cifar, source_split, split_index
from ..errors import ConfigError
from ..rng import Draws, derive_key
from ..validation import check_choice, check_device, check_int, check_number
from .batched import BatchedDataset
from .spec import SPLITS, TransformLike, TransformList, parse_transforms
from .whole import max_shift, transform_whole, translate_whole

__all__ = ["CIFAR_STATS", "NORMALIZE", "CifarSpec", "TransformedCIFAR", "max_shift",
           "translate_whole"]

NORMALIZE = ("cifar", "half")
#: Per-channel (mean, std) of the training pixels, in [0, 1] units.
CIFAR_STATS = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}


@dataclass(frozen=True)
class CifarSpec:
    """Everything that defines a :class:`TransformedCIFAR` (``n`` is the realised size)."""

    name: str
    transforms: TransformList
    classes: tuple[int, ...]
    n: int
    split: str = "train"
    seed: int = 0
    image_size: int = DEFAULT_IMAGE_SIZE
    n_per_class: int | None = None
    fraction: float | None = None
    total: int | None = None
    normalize: str = "cifar"
    transform_seed: int = 0

    def with_(self, **changes: Any) -> CifarSpec:
        return replace(self, **changes)


class TransformedCIFAR(BatchedDataset):
    """CIFAR-10/100 images under Transforms-2D transformations; the module docstring has the
    conventions (splits, transforms, normalisation, where the data is found).

    Args:
        name: ``"cifar10"`` or ``"cifar100"``.
        transforms: transform names in application order (``"rotate,hue"``, a list, entries
            may be ``(name, {param: value})``); ``"none"`` or empty for plain images.
        split: ``"train"``, ``"val"`` or ``"test"``.
        classes: CIFAR labels to keep, relabelled ``classes[i] -> i`` (default: all).
        n: total samples, spread over the classes as evenly as possible (±1).
        n_per_class: samples per class.
        fraction: share of each class's images, in (0, 1] (at least 1 per class).
            At most one of ``n``, ``n_per_class``, ``fraction``; default: every image. A subset
            is the first images of each class in a fixed order drawn from (seed, split), so a
            smaller subset is contained in a larger one; samples stay in archive order.
        seed: seeds the subset and the transform parameters.
        transform_seed: seed of the transform parameters only (see :meth:`with_transform_seed`).
        normalize: ``"cifar"`` (per-channel CIFAR statistics) or ``"half"`` (to [-1, 1]).
        root: where the data is (default: ``$T2D_CIFAR_ROOT``, then the cache folders).
        download: fetch the official archive into the root if it is missing.
        epoch: epoch used by ``ds[i]`` (train split only; see :meth:`set_epoch`).
        device: where the images live and batches are rendered.

    Items are ``(image (3, 32, 32) float32, label int in [0, num_classes))``.
    """

    def __init__(
        self,
        name: str = "cifar10",
        transforms: Sequence[TransformLike] | str = (),
        split: str = "train",
        classes: Sequence[int] | None = None,
        n: int | None = None,
        n_per_class: int | None = None,
        fraction: float | None = None,
        seed: int = 0,
        transform_seed: int = 0,
        normalize: str = "cifar",
        root: str | os.PathLike | None = None,
        download: bool = False,
        epoch: int = 0,
        device: str | torch.device = "cpu",
    ) -> None:
        check_choice("name", name, tuple(FORMATS))
        check_choice("split", split, SPLITS)
        check_choice("normalize", normalize, NORMALIZE)
        check_int("seed", seed, 0)
        check_int("transform_seed", transform_seed, 0)
        check_int("epoch", epoch, 0)
        device = check_device("device", device)
        if root is not None and not isinstance(root, str | os.PathLike):
            raise ConfigError(f"The 'root' parameter must be a folder (a path). Got {root!r} "
                              f"instead.")
        if isinstance(transforms, Mapping):
            raise ConfigError("Per-class transforms are not supported for CIFAR; pass one list "
                              "of transform names.")
        check_counts(n, n_per_class, fraction)
        base = Path(root).expanduser() if root is not None else default_root()
        self.root = str(base.resolve())
        data = load_cifar(name, source_split(split), self.root, download)
        k = len(data.class_names)
        classes = tuple(range(k)) if classes is None else _check_classes(classes, k, name)
        self.class_names = [data.class_names[c] for c in classes]
        spec = CifarSpec(name=name, transforms=parse_transforms(transforms), classes=classes,
                         n=0, split=split, seed=seed, n_per_class=n_per_class,
                         fraction=None if fraction is None else float(fraction), total=n,
                         normalize=normalize, transform_seed=transform_seed)
        self._select, self._labels = _select(data.labels, spec, self.class_names)
        self.spec = spec.with_(n=len(self._select))
        self.num_classes = len(classes)
        self.epoch = epoch
        self.device = device
        self._cache: tuple[torch.Tensor, ...] | None = None

    # -- metadata ------------------------------------------------------------------------
    def __repr__(self) -> str:
        s = self.spec
        names = "[" + ", ".join(t for t, _ in s.transforms) + "]"
        return (f"TransformedCIFAR({s.name!r}, split={s.split!r}, n={s.n}, "
                f"classes={self.num_classes}, transforms={names}, seed={s.seed})")

    @property
    def labels(self) -> torch.Tensor:
        """``(n,)`` int64 labels in index order (CPU)."""
        return self._labels

    @property
    def source_index(self) -> torch.Tensor:
        """``(n,)`` int64: which image of the CIFAR split (train or test) each sample shows."""
        return self._select

    # -- rendering -----------------------------------------------------------------------
    def _data(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Device-resident source images, selection, labels and normalisation constants."""
        if self._cache is None:
            sp = self.spec
            images = load_cifar(sp.name, source_split(sp.split), self.root).images
            if sp.normalize == "cifar":
                mean, std = (torch.tensor(v, device=self.device).view(1, 3, 1, 1)
                             for v in CIFAR_STATS[sp.name])
            else:
                mean = torch.full((1, 3, 1, 1), 0.5, device=self.device)
                std = mean.clone()
            self._cache = (images.to(self.device), self._select.to(self.device),
                           self._labels.to(self.device), mean, std)
        return self._cache

    def _render_batch(self, index: torch.Tensor, epoch: int):
        sp = self.spec
        images, select, labels, mean, std = self._data()
        index = index.to(self.device).reshape(-1)
        rgb = images.index_select(0, select.index_select(0, index)).float().mul_(1.0 / 255.0)
        out = transform_whole(rgb, sp.transforms, index, sp.seed, sp.split, sp.transform_seed,
                              epoch)
        if sp.normalize == "half":  # bit-identical to the renderer's last step
            return out.mul_(2.0).sub_(1.0).clamp_(-1.0, 1.0), labels.index_select(0, index)
        return out.sub_(mean).div_(std), labels.index_select(0, index)

    # -- variants ------------------------------------------------------------------------
    def with_transform_seed(self, transform_seed: int) -> TransformedCIFAR:
        """A twin: the same image and label at every index, independently drawn transform
        parameters (the pairs of the invariance metric, docs/protocol.md §5)."""
        check_int("transform_seed", transform_seed, 0)
        out = self._copy()
        out.spec = self.spec.with_(transform_seed=transform_seed)
        return out

    def twin(self, factor: str, seed: int) -> TransformedCIFAR:
        """The invariance twin (as :meth:`Transforms2D.twin`); only ``"transform"`` exists for
        whole images."""
        check_choice("factor", factor, ("transform",))
        return self.with_transform_seed(seed)

    def with_split(self, split: str, n: int | None = None) -> TransformedCIFAR:
        """The same definition on another split; ``n`` (total samples) replaces the sample
        count, else the count option (``n``, ``n_per_class`` or ``fraction``) carries over."""
        check_choice("split", split, SPLITS)
        sp = self.spec
        counts = dict(n=sp.total, n_per_class=sp.n_per_class, fraction=sp.fraction) \
            if n is None else dict(n=n)
        return TransformedCIFAR(sp.name, sp.transforms, split, sp.classes, **counts,
                                seed=sp.seed, transform_seed=sp.transform_seed,
                                normalize=sp.normalize, root=self.root, epoch=self.epoch,
                                device=self.device)

    def to(self, device: str | torch.device) -> TransformedCIFAR:
        """The same dataset rendering on ``device``."""
        out = self._copy()
        out.device, out._cache = torch.device(device), None
        return out

    def _copy(self) -> TransformedCIFAR:
        out = object.__new__(TransformedCIFAR)
        out.__dict__.update(self.__dict__)
        return out

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_cache"] = None  # images are re-read from the root (in-memory cache) on demand
        return state


def check_counts(n: Any, n_per_class: Any, fraction: Any) -> None:
    given = [k for k, v in (("n", n), ("n_per_class", n_per_class), ("fraction", fraction))
             if v is not None]
    if len(given) > 1:
        raise ConfigError(f"Pass at most one of n, n_per_class and fraction (got "
                          f"{' and '.join(given)}).")
    if n is not None:  # counts are int64 tensors
        check_int("n", n, 1, 2 ** 63 - 1)
    if n_per_class is not None:
        check_int("n_per_class", n_per_class, 1, 2 ** 63 - 1)
    if fraction is not None:
        check_number("fraction", fraction, 0.0, 1.0, low_open=True)


def _check_classes(classes: Sequence[int], k: int, name: str) -> tuple[int, ...]:
    title = FORMATS[name].title
    if isinstance(classes, str | bytes) or not isinstance(classes, Sequence) or \
            len(classes) == 0:
        raise ConfigError(f"classes must be a non-empty list of {title} labels in 0..{k - 1}.")
    out: list[int] = []
    for c in classes:
        if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < k:
            raise ConfigError(f"Class {c!r} is out of range for {title} (valid: 0..{k - 1}).")
        if c in out:
            raise ConfigError(f"Class {c} appears twice in classes; list each {title} class "
                              f"once.")
        out.append(int(c))
    return tuple(out)


def _select(labels: torch.Tensor, sp: CifarSpec, names: list[str]):
    """Source indices ``(M,)`` (ascending) and remapped labels ``(M,)`` of the samples."""
    title, k = FORMATS[sp.name].title, len(sp.classes)
    base = split_index(labels, sp.split)
    lut = torch.full((FORMATS[sp.name].num_classes,), -1, dtype=torch.int64)
    lut[torch.tensor(sp.classes)] = torch.arange(k)
    new = lut[labels[base]]
    keep = new >= 0
    base, new = base[keep], new[keep]
    have = torch.bincount(new, minlength=k)
    if bool((have == 0).any()):
        c = int(torch.nonzero(have == 0)[0, 0])
        raise ConfigError(f"{title} has no {sp.split} image of class {sp.classes[c]} "
                          f"('{names[c]}'); the data looks incomplete: re-extract the archive.")
    if sp.total is None and sp.n_per_class is None and sp.fraction is None:
        return base, new
    if sp.fraction is not None:
        want = (have.double() * sp.fraction + 0.5).floor().long().clamp_(min=1)
    elif sp.n_per_class is not None:
        want = torch.full((k,), sp.n_per_class, dtype=torch.int64)
    else:
        if sp.total < k:
            raise ConfigError(f"n={sp.total} is smaller than the number of classes ({k}); use "
                              f"n >= {k} so every class has a sample.")
        want = torch.full((k,), sp.total // k, dtype=torch.int64)
        want[:sp.total % k] += 1
    short = torch.nonzero(want > have)
    if short.numel():
        c = int(short[0, 0])
        what = f"n_per_class={sp.n_per_class}" if sp.n_per_class is not None else \
            f"n={sp.total} ({int(want[c])} for class {sp.classes[c]})"
        raise ConfigError(f"{what} but {title} class {sp.classes[c]} ('{names[c]}') has only "
                          f"{int(have[c])} {sp.split} images; use at most {int(have.min())} "
                          f"per class, or fraction=.")
    # A fixed random rank inside each class: subsets of the same seed are nested.
    rank_key = Draws(derive_key(sp.seed, "cifar-subset", sp.split), base).bits(1)[:, 0]
    order = torch.argsort(new * (1 << 32) + rank_key)
    starts = torch.cumsum(have, 0) - have
    rank = torch.empty_like(new)
    rank[order] = torch.arange(len(new)) - starts[new[order]]
    keep = rank < want[new]
    return base[keep], new[keep]
