"""The dataset specification: plain, validated data that fully determines a Transforms-2D set.

Validation happens here, at the boundary, with one-line errors that name the fix; everything
downstream (renderer, dataset) may assume a valid spec.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Union

from .. import DEFAULT_IMAGE_SIZE
from ..errors import ConfigError
from ..transforms import get_transform, resolve_hyper

SPLITS = ("train", "val", "test")
BACKGROUNDS = ("images", "random", "black")
CLASS_FROM = ("object", "background")
# where the object box sits (docs/protocol.md §1.1, §6 E2)
POSITIONS = ("center", "corner", "anywhere")

# A transform is a name, or (name, {hyper-parameter overrides}).
TransformLike = Union[str, tuple[str, Mapping[str, Any]]]  # noqa: UP007 (a runtime alias)
TransformList = tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]


def _pairs(params: Any) -> dict | None:
    """``params`` as a dict: a mapping, or the ``((key, value), ...)`` pairs of a parsed set;
    None if it is neither."""
    if isinstance(params, Mapping):
        return dict(params)
    if isinstance(params, tuple | list) and all(
            isinstance(kv, tuple | list) and len(kv) == 2 and isinstance(kv[0], str)
            for kv in params):
        return dict(params)
    return None


def parse_transforms(transforms: Sequence[TransformLike] | str | None) -> TransformList:
    """Normalise a transform list to ``((name, ((key, value), ...)), ...)``, validated.

    Accepts ``"rotate,hue"``, ``["rotate", "hue"]``, ``[("rotate", {"angle": (0, 90)})]``;
    ``none`` entries are dropped (identity).
    """
    if transforms is None:
        return ()
    if isinstance(transforms, str):
        transforms = [t.strip() for t in transforms.split(",") if t.strip()]
    if not isinstance(transforms, Iterable) or isinstance(transforms, Mapping | bytes):
        raise ConfigError(f"The 'transforms' parameter must be a comma-separated string or a "
                          f"list of names and (name, {{params}}) pairs. Got {transforms!r} "
                          f"instead.")
    out = []
    for item in transforms:
        if isinstance(item, str):
            name, overrides = item, {}
        elif isinstance(item, Sequence) and len(item) == 2 and isinstance(item[0], str) \
                and _pairs(item[1]) is not None:
            name, overrides = item[0], _pairs(item[1])  # params: a mapping or frozen pairs
        else:
            raise ConfigError(
                f"A transform must be a name or (name, {{params}}); got {item!r}."
            )
        info = get_transform(name)
        resolve_hyper(info, overrides)  # validates keys and ranges
        if name != "none":
            frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v)
                                  for k, v in overrides.items()))
            out.append((name, frozen))
    return tuple(out)


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that defines a Transforms-2D dataset (see :class:`~.dataset.Transforms2D`)."""

    objects: tuple[int, ...]
    transforms: TransformList | dict[int, TransformList]
    n: int
    split: str = "train"
    seed: int = 0
    image_size: int = DEFAULT_IMAGE_SIZE
    backgrounds: str = "images"
    class_from: str = "object"
    families: tuple[str, ...] = ()
    correlation: float = 0.0
    object_availability: float = 1.0
    transform_seed: int = 0
    object_scale: float = 0.7
    object_position: str = "center"
    object_seed: int = 0
    background_seed: int = 0
    extras: Mapping[str, Any] = field(default_factory=dict)

    def with_(self, **changes: Any) -> DatasetSpec:
        return replace(self, **changes)

