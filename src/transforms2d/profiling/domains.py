"""The data a profile is measured on: one registry of domains.

``objects``: Transforms-2D builtin objects on the pack's nature backgrounds; ``random``:
random-pixel objects on random-pixel backgrounds; ``folder:PATH``: a user's own images, the
transforms applied to whole images. Every domain gives, for a transform list, the test-split
dataset of ``n`` samples and its invariance twin (same images, independently drawn transform
parameters).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..data import ImageFolderDataset, Transforms2D
from ..errors import ConfigError, unknown_name
from ..validation import comma_items

#: Objects of each domain (the first 60; fewer when there are fewer pairs). 60–71 of the
#: builtin pack are E2's scene objects.
OBJECTS = 60
TWIN_SEED = 1  # the engine's default twin seed (docs/protocol.md §5)


@dataclass(frozen=True)
class Domain:
    """A registered domain: ``build(transforms, n, seed, image_size, device, arg)`` returns a
    dataset with ``twin("transform", s)``."""

    name: str
    summary: str
    build: Callable


DOMAINS: dict[str, Domain] = {}


def register_domain(name: str, summary: str):
    """Decorator: register a dataset builder as a profile domain."""
    def deco(fn: Callable) -> Callable:
        DOMAINS[name] = Domain(name, summary, fn)
        return fn
    return deco


@register_domain("objects", "builtin objects on nature backgrounds (Transforms-2D)")
def _objects(transforms, n, seed, image_size, device, arg=None):
    return Transforms2D(objects=min(OBJECTS, n), transforms=transforms, n=n, split="test",
                        seed=seed, image_size=image_size, device=device)


@register_domain("random", "random-pixel objects on random-pixel backgrounds")
def _random(transforms, n, seed, image_size, device, arg=None):
    return Transforms2D(objects=min(OBJECTS, n), transforms=transforms, n=n, split="test",
                        seed=seed, image_size=image_size, assets="random", backgrounds="random",
                        device=device)


@functools.lru_cache(maxsize=4)
def _folder_images(root: str, n: int, seed: int, image_size: int, device) -> ImageFolderDataset:
    """The folder read and resized once per profile, not once per transform."""
    return ImageFolderDataset(root, (), n=n, seed=seed, image_size=image_size, device=device)


@register_domain("folder", "your own images (folder:PATH), whole-image transforms")
def _folder(transforms, n, seed, image_size, device, arg=None):
    return _folder_images(arg, n, seed, image_size, device).with_transforms(transforms)


def parse_domains(text: str | Sequence[str]) -> list[tuple[str, str | None]]:
    """``"objects,random,folder:PATH"`` (or a list) → ``[(name, arg)]``, checked."""
    items = comma_items(text)
    if not items:
        raise ConfigError(f"No domain given; pass some of: {', '.join(DOMAINS)} "
                          f"(folder:PATH).")
    out = []
    for item in items:
        name, _, arg = item.partition(":")
        if name not in DOMAINS:
            raise unknown_name("domain", name, DOMAINS)
        if name == "folder" and not arg:
            raise ConfigError("The folder domain needs a path: folder:PATH.")
        out.append((name, arg or None))
    return out


def domain_label(name: str, arg: str | None) -> str:
    return name if arg is None else f"{name}:{arg}"


def build_pair(name: str, arg: str | None, transforms, n: int, seed: int, image_size: int,
               device):
    """``(dataset, twin)`` of a domain for one transform list."""
    ds = DOMAINS[name].build(transforms, n, seed, image_size, device, arg)
    return ds, ds.twin("transform", TWIN_SEED)
