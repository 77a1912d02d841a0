"""``Transforms2D``: the PyTorch dataset of the Transforms-2D family (docs/protocol.md §1).

Per-item access (``ds[i]``) follows the ``Dataset`` convention; training should use the batched
paths ``ds.render(indices)`` / ``ds.loader(...)``, which render whole batches on a device.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .. import DEFAULT_IMAGE_SIZE
from ..assets import AssetPack, load_assets, load_background_pack
from ..errors import ConfigError
from ..validation import check_choice, check_device, check_fraction, check_int, check_number
from .batched import BatchedDataset
from .render import Renderer
from .spec import (
    BACKGROUNDS,
    CLASS_FROM,
    POSITIONS,
    SPLITS,
    DatasetSpec,
    TransformLike,
    parse_transforms,
)

TWIN_FACTORS = ("transform", "object", "background")
#: Largest image side: a batch of float32 canvases beyond it does not fit in memory.
MAX_IMAGE_SIZE = 4096
MIN_IMAGE_SIZE = 8  #: smallest image side accepted


class Transforms2D(BatchedDataset):
    """A Transforms-2D dataset D(O, T): objects O pasted on backgrounds after transforms T.

    Args:
        objects: an int N (the first N objects of the pack) or a list of object indices; with
            ``class_from="object"`` each object is a class, labelled by its position here.
        transforms: transform names in application order (``"rotate,hue"`` or a list; an entry
            may be ``(name, {param: value})`` to override the paper's parameters), or a dict
            ``class -> list`` for per-class transforms (classes left out get none).
        n: number of samples in this split.
        split: ``"train"``, ``"val"`` or ``"test"``; each split is an independent stream.
        seed: dataset seed (objects, backgrounds and transform parameters all derive from it).
        image_size: output side in pixels (:data:`MIN_IMAGE_SIZE` to :data:`MAX_IMAGE_SIZE`;
            the paper uses 32).
        assets: asset pack name (``"builtin"``, ``"random"``, ``"hub"``, ``"folder:PATH"``) or an
            :class:`~transforms2d.assets.AssetPack`.
        backgrounds: ``"images"`` (the pack's), ``"random"`` (uniform random pixels, fixed per
            sample) or ``"black"``.
        class_from: ``"object"`` (default) or ``"background"`` (background families are the
            classes; objects are drawn at random).
        families: with ``class_from="background"``, which families are the classes (default:
            all of the pack's, in pack order).
        correlation: probability that the non-label factor follows the label through the fixed
            one-to-one map class k ↔ family k (object classes) or class k ↔ object k (background
            classes); otherwise it is drawn uniformly. 0 makes them independent.
        object_availability: probability that a sample contains its object at all.
        object_scale: side of the object box as a fraction of the image side (0.7 in the
            paper's Transforms-2D; 0.375, i.e. 12 px at 32, for the irrelevant-features study).
        object_position: ``"center"`` (default), ``"corner"`` (upper-right, 1 px margin per
            32 px) or ``"anywhere"`` (a uniform position per sample where the box fits, fixed
            by seed/split/index like the object itself).
        transform_seed: seed of the transform parameters only (see :meth:`with_transform_seed`).
        epoch: epoch used by ``ds[i]`` (train split only; see :meth:`set_epoch`).
        device: where assets live and batches are rendered.
        background_pack: another pack whose background images and families replace those of
            ``assets``: ``"cifar10"`` / ``"cifar100"`` (``":<root>"`` optional) use the split's
            CIFAR images with the CIFAR classes as families (train/val from CIFAR train, test
            from CIFAR test; see :mod:`transforms2d.assets.cifar`), any other pack name or an
            :class:`~transforms2d.assets.AssetPack` is used for every split.

    Items are ``(image, label)``: ``image`` float32 ``(3, S, S)`` in [-1, 1] (mean 0.5 / std 0.5
    normalisation), ``label`` int in ``[0, num_classes)``. Classes are exactly balanced
    (sample i has class ``i % num_classes``).
    """

    def __init__(
        self,
        objects: int | Sequence[int] = 10,
        transforms: Sequence[TransformLike] | Mapping[int, Sequence[TransformLike]] | str = (),
        n: int = 1000,
        split: str = "train",
        seed: int = 0,
        image_size: int = DEFAULT_IMAGE_SIZE,
        assets: str | AssetPack = "builtin",
        backgrounds: str = "images",
        class_from: str = "object",
        families: Sequence[str] | None = None,
        correlation: float = 0.0,
        object_availability: float = 1.0,
        object_scale: float = 0.7,
        object_position: str = "center",
        transform_seed: int = 0,
        epoch: int = 0,
        device: str | torch.device = "cpu",
        background_pack: str | AssetPack | None = None,
    ) -> None:
        checked = CheckedArguments.check(
            objects=objects, transforms=transforms, n=n, split=split, seed=seed,
            image_size=image_size, assets=assets, backgrounds=backgrounds, class_from=class_from,
            families=families, correlation=correlation,
            object_availability=object_availability, object_scale=object_scale,
            object_position=object_position, transform_seed=transform_seed, epoch=epoch,
            device=device, background_pack=background_pack)
        self.pack = checked.pack
        self.background_pack = background_pack
        self.spec = checked.spec
        self.num_classes = checked.num_classes
        self.epoch = epoch
        self.device = checked.device
        self._renderer: Renderer | None = None

    # -- metadata ------------------------------------------------------------------------
    @property
    def class_names(self) -> list[str]:
        """A readable name per class (object names or family names)."""
        if self.spec.class_from == "object":
            return [self.pack.object_names[i] for i in self.spec.objects]
        return list(self.spec.families)

    def __repr__(self) -> str:
        s = self.spec
        return (f"Transforms2D(split={s.split!r}, n={s.n}, classes={self.num_classes}, "
                f"transforms={_describe(s.transforms)}, assets={self.pack.name!r}, "
                f"backgrounds={s.backgrounds!r}"
                + (f", background_pack={s.extras['background_pack']!r}"
                   if "background_pack" in s.extras else "")
                + f", image_size={s.image_size}, seed={s.seed})")

    # -- rendering -----------------------------------------------------------------------
    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            spec = getattr(self, "background_pack", None)  # absent in older pickles
            bpack = None if spec is None or self.spec.backgrounds != "images" else \
                load_background_pack(spec, self.spec.split)
            self._renderer = Renderer(self.spec, self.pack, self.device, bpack)
        return self._renderer

    def _render_batch(self, index: torch.Tensor, epoch: int):
        return self.renderer.render(index, epoch)

    def cache_key(self) -> tuple:
        # The packs are not part of the spec (two packs can share object indices and names):
        # the key holds the pack objects themselves, compared by identity.
        return (*super().cache_key(), self.pack, self.background_pack)

    def with_transform_seed(self, transform_seed: int) -> Transforms2D:
        """A twin: same object, background and label at every index, independently drawn
        transform parameters (the pairs of the invariance metric, docs/protocol.md §5)."""
        check_int("transform_seed", transform_seed, 0)
        return self._copy(self.spec.with_(transform_seed=transform_seed))

    def with_object_seed(self, object_seed: int) -> Transforms2D:
        """A twin with the same background, label and transforms at every index and another
        object (with ``class_from="background"``, where the object is not the label): the pairs
        that measure invariance to the object (docs/protocol.md §6 E2). 0 gives the dataset
        itself."""
        check_int("object_seed", object_seed, 0)
        if self.spec.class_from != "background":
            raise ConfigError("with_object_seed needs class_from='background' (with object "
                              "classes the object is the label and cannot change).")
        return self._copy(self.spec.with_(object_seed=object_seed))

    def with_background_seed(self, background_seed: int) -> Transforms2D:
        """A twin with the same object, label and transforms at every index and an independently
        drawn background (with ``class_from="object"`` and background images): the pairs that
        measure invariance to the background image (docs/protocol.md §6 E2). 0 gives the dataset
        itself."""
        check_int("background_seed", background_seed, 0)
        if self.spec.class_from != "object" or self.spec.backgrounds != "images":
            raise ConfigError("with_background_seed needs class_from='object' and "
                              "backgrounds='images'.")
        return self._copy(self.spec.with_(background_seed=background_seed))

    def twin(self, factor: str, seed: int) -> Transforms2D:
        """The invariance twin that redraws one factor: ``"transform"`` (parameters),
        ``"object"`` or ``"background"``."""
        check_choice("factor", factor, TWIN_FACTORS)
        return getattr(self, f"with_{factor}_seed")(seed)

    def with_split(self, split: str, n: int | None = None) -> Transforms2D:
        """The same dataset definition on another split (optionally another size)."""
        check_choice("split", split, SPLITS)
        return self._copy(self.spec.with_(split=split, n=self.spec.n if n is None else n))

    def to(self, device: str | torch.device) -> Transforms2D:
        """The same dataset rendering on ``device``."""
        out = self._copy(self.spec)
        out.device = torch.device(device)
        return out

    def _copy(self, spec: DatasetSpec) -> Transforms2D:
        out = object.__new__(Transforms2D)
        out.__dict__.update(self.__dict__)
        out.spec, out._renderer = spec, None
        return out

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_renderer"] = None  # rebuilt lazily in each DataLoader worker
        return state


@dataclass(frozen=True)
class CheckedArguments:
    """The arguments of :class:`Transforms2D`, checked and normalised: what ``__init__``
    assigns.

    Attributes:
        spec: the dataset's :class:`~.spec.DatasetSpec`.
        pack: the loaded asset pack (objects, and backgrounds unless ``background_pack``).
        num_classes: objects (``class_from="object"``) or background families.
        device: the checked ``device``.
    """

    spec: DatasetSpec
    pack: AssetPack
    num_classes: int
    device: torch.device

    @classmethod
    def check(cls, *, objects, transforms, n, split, seed, image_size, assets, backgrounds,
              class_from, families, correlation, object_availability, object_scale,
              object_position, transform_seed, epoch, device,
              background_pack) -> CheckedArguments:
        """Check every argument of :class:`Transforms2D` (same names and meanings), cheap
        scalar checks first, then the ones that need the asset pack; raises
        :class:`ConfigError` at the first bad one."""
        device = _check_scalars(
            split=split, backgrounds=backgrounds, class_from=class_from, image_size=image_size,
            seed=seed, transform_seed=transform_seed, correlation=correlation,
            object_availability=object_availability, object_position=object_position,
            epoch=epoch, device=device, object_scale=object_scale)
        pack = load_assets(assets)
        bpack = pack if background_pack is None or backgrounds != "images" else \
            load_background_pack(background_pack, split)
        objs = _check_objects(objects, pack)
        if backgrounds == "images" and bpack.num_backgrounds == 0:
            raise ConfigError(
                f"Asset pack '{bpack.name}' has no background images; use "
                f"backgrounds='random' or 'black', or another pack."
            )
        fams = _check_families(families, bpack, class_from, backgrounds)
        num_classes = len(objs) if class_from == "object" else len(fams)
        fams = _check_correlation(correlation, objs, fams, bpack, class_from, backgrounds)
        _check_n(n, num_classes)
        spec = DatasetSpec(
            objects=objs, transforms=_class_transforms(transforms, num_classes), n=n,
            split=split, seed=seed, image_size=image_size, backgrounds=backgrounds,
            class_from=class_from, families=fams, correlation=float(correlation),
            object_availability=float(object_availability), transform_seed=transform_seed,
            object_scale=float(object_scale), object_position=object_position,
            extras={} if background_pack is None else {
                "background_pack": background_pack.name
                if isinstance(background_pack, AssetPack) else background_pack},
        )
        return cls(spec, pack, num_classes, device)


def _check_scalars(*, split, backgrounds, class_from, image_size, seed, transform_seed,
                   correlation, object_availability, object_position, epoch, device,
                   object_scale) -> torch.device:
    """The checks that need no asset pack, in a fixed order (the first bad one is reported);
    returns the checked device."""
    check_choice("split", split, SPLITS)
    check_choice("backgrounds", backgrounds, BACKGROUNDS)
    check_choice("class_from", class_from, CLASS_FROM)
    check_int("image_size", image_size, MIN_IMAGE_SIZE, MAX_IMAGE_SIZE)
    check_int("seed", seed, 0)
    check_int("transform_seed", transform_seed, 0)
    check_fraction("correlation", correlation)
    check_fraction("object_availability", object_availability)
    check_choice("object_position", object_position, POSITIONS)
    check_int("epoch", epoch, 0)
    device = check_device("device", device)
    check_number("object_scale", object_scale, 0.0, 1.0, low_open=True)
    if round(float(object_scale) * image_size) < 1:
        raise ConfigError(f"The 'object_scale' parameter must be in (0, 1] and leave the "
                          f"object at least 1 px. Got {object_scale} instead.")
    return device


def _check_correlation(correlation: float, objs: tuple[int, ...], fams: tuple[str, ...],
                       bpack: AssetPack, class_from: str, backgrounds: str) -> tuple[str, ...]:
    """The families of the spec: with object classes, background images and ``correlation >
    0``, class k follows family k, so there must be a family per class (``fams`` defaults to
    the pack's); with background classes, object k follows family k."""
    num_classes = len(objs) if class_from == "object" else len(fams)
    if class_from == "object" and backgrounds == "images" and correlation > 0:
        fams = fams or bpack.families
        if len(fams) < num_classes:
            raise ConfigError(
                f"correlation > 0 pairs class k with background family k, but there are "
                f"{num_classes} classes and {len(fams)} families; use at most {len(fams)} "
                f"objects or correlation=0."
            )
    if class_from == "background" and correlation > 0 and len(objs) < num_classes:
        raise ConfigError(
            f"correlation > 0 pairs family k with object k: pass at least {num_classes} "
            f"objects (got {len(objs)})."
        )
    return fams


def _check_n(n: int, num_classes: int) -> None:
    check_int("n", n, 1, 2 ** 63 - 1)  # sample indices are int64
    if n < num_classes:
        raise ConfigError(
            f"n={n} is smaller than the number of classes ({num_classes}); use n >= "
            f"{num_classes} so every class has a sample."
        )


def _class_transforms(transforms, num_classes: int) -> Any:
    """The parsed transform list, or ``{class: list}`` for every class (classes left out of a
    per-class mapping get none)."""
    if not isinstance(transforms, Mapping):
        return parse_transforms(transforms)
    tlist = {}
    for c, lst in transforms.items():
        if not (isinstance(c, int) and 0 <= c < num_classes):
            raise ConfigError(
                f"Per-class transforms name class {c!r}, but classes are "
                f"0..{num_classes - 1}."
            )
        tlist[c] = parse_transforms(lst)
    return {c: tlist.get(c, ()) for c in range(num_classes)}


def _check_objects(objects: int | Sequence[int], pack: AssetPack) -> tuple[int, ...]:
    k = pack.num_objects
    if isinstance(objects, int) and not isinstance(objects, bool):
        if not 1 <= objects <= k:
            raise ConfigError(
                f"objects={objects} but asset pack '{pack.name}' has {k} objects; "
                f"use objects <= {k} or another pack."
            )
        return tuple(range(objects))
    items = list(objects) if isinstance(objects, Iterable) and \
        not isinstance(objects, str | bytes | Mapping) else None
    if items is None or \
            not all(isinstance(o, numbers.Integral) and not isinstance(o, bool) for o in items):
        raise ConfigError(f"The 'objects' parameter must be an int N or a list of object "
                          f"indices (ints). Got {objects!r} instead.")
    objs = tuple(int(o) for o in items)
    if not objs:
        raise ConfigError("objects is empty; pass an int N or a list of object indices.")
    bad = [o for o in objs if not 0 <= o < k]
    if bad:
        raise ConfigError(
            f"Object index {bad[0]} is out of range: asset pack '{pack.name}' has objects "
            f"0..{k - 1}."
        )
    if len(set(objs)) != len(objs):
        raise ConfigError("objects lists an object twice; each object is one class.")
    return objs


def _check_families(families, pack: AssetPack, class_from: str, backgrounds: str):
    if class_from == "object" and families is None:
        return ()
    if backgrounds != "images":
        raise ConfigError("class_from='background' needs backgrounds='images'.")
    if pack.num_backgrounds == 0:
        raise ConfigError(f"Asset pack '{pack.name}' has no background images; use "
                          f"backgrounds='random' or 'black', or another pack.")
    if isinstance(families, str) or not isinstance(families, Iterable | None):
        raise ConfigError(f"The 'families' parameter must be a list of background family "
                          f"names. Got {families!r} instead.")
    fams = tuple(families) if families is not None else pack.families
    unknown = [f for f in fams if f not in pack.families]
    if unknown:
        raise ConfigError(
            f"Unknown background family '{unknown[0]}'; pack '{pack.name}' has: "
            f"{', '.join(pack.families)}."
        )
    if class_from == "background" and len(fams) < 2:
        raise ConfigError("class_from='background' needs at least 2 background families.")
    return fams


def _describe(t: Any) -> str:
    if isinstance(t, dict):
        return "{per-class}"
    return "[" + ", ".join(name for name, _ in t) + "]"
