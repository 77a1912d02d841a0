"""Object and background packs, one registry: ``builtin`` (shipped, offline), ``random``,
``hub`` (the authors' images, optional extra) and ``folder`` (a user's directory).

Background-only packs, per split, for ``Transforms2D(background_pack=...)``: ``cifar10`` and
``cifar100`` (``:<root>`` optional; see :mod:`.cifar_backgrounds`), resolved by
:func:`load_background_pack`. The CIFAR archives themselves are read by :mod:`.cifar`.

>>> pack = load_assets("builtin")
>>> pack.objects_at(32).shape[1:]
torch.Size([4, 32, 32])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ConfigError, unknown_name
from .base import AssetPack
from .builtin import load_builtin
from .cifar import CifarData, cifar_available, class_subset, load_cifar
from .cifar_backgrounds import CIFAR_PACKS, CifarBackgrounds, load_cifar_backgrounds
from .folder import load_folder
from .hub import DEFAULT_SOURCE, load_hub
from .random import load_random

__all__ = ["ASSET_PACKS", "BACKGROUND_PACKS", "AssetPack", "BackgroundPackInfo",
           "CifarBackgrounds", "CifarData", "PackInfo", "cifar_available", "class_subset",
           "list_asset_packs", "load_assets", "load_background_pack", "load_builtin",
           "load_cifar", "load_cifar_backgrounds", "load_folder", "load_hub", "load_random",
           "register_background_pack"]


@dataclass(frozen=True)
class PackInfo:
    """A registered pack: ``loader(argument)`` builds it from the text after ``name:``.

    ``argument`` names that text for help messages (``None``: the pack takes none);
    ``argument_required`` says whether ``name`` alone is valid.
    """

    name: str
    loader: Callable[[str | None], AssetPack]
    description: str
    argument: str | None = None
    argument_required: bool = False

    @property
    def usage(self) -> str:
        if self.argument is None:
            return self.name
        return f"{self.name}:{self.argument}" if self.argument_required else \
            f"{self.name}[:{self.argument}]"


@functools.lru_cache(maxsize=4)
def _hub_cached(source: str) -> AssetPack:
    # keep decoded hub packs in memory: re-reading hundreds of photos per dataset is slow
    return load_hub(source)


ASSET_PACKS: dict[str, PackInfo] = {
    p.name: p
    for p in (
        PackInfo("builtin", lambda _: load_builtin(),
                 "shipped offline: 72 emoji objects, 872 procedural nature backgrounds"),
        PackInfo("random", lambda _: load_random(),
                 "the paper's random-pixel objects (61, 32x32); random-pixel backgrounds"),
        PackInfo("hub", lambda arg: _hub_cached(arg or DEFAULT_SOURCE),
                 f"the authors' 61 objects and 867 photos from the Hugging Face hub "
                 f"({DEFAULT_SOURCE}); needs pip install 'transforms2d[hub]'",
                 argument="<repo-or-local-dir>"),
        PackInfo("folder", load_folder,
                 "your own images: <path>/objects/*.png (RGBA), <path>/backgrounds/",
                 argument="<path>", argument_required=True),
    )
}


def list_asset_packs() -> list[PackInfo]:
    """The registered packs, in registry order."""
    return list(ASSET_PACKS.values())


def load_assets(spec: str | AssetPack) -> AssetPack:
    """Resolve a pack spec: ``"builtin"``, ``"random"``, ``"hub"``, ``"hub:<repo-or-local-dir>"``
    or ``"folder:<path>"``; an :class:`AssetPack` is returned unchanged.

    Raises:
        ConfigError: unknown pack name, or a missing/unexpected ``:argument``.
    """
    if isinstance(spec, AssetPack):
        return spec
    if not isinstance(spec, str):
        raise ConfigError(f"An asset pack is a name such as 'builtin' or an AssetPack, "
                          f"got {type(spec).__name__}.")
    name, sep, arg = spec.partition(":")
    name = name.strip()
    info = ASSET_PACKS.get(name)
    if info is None:
        raise unknown_name("asset pack", name, ASSET_PACKS)
    if sep and info.argument is None:
        raise ConfigError(f"Asset pack '{name}' takes no argument; use '{name}', not '{spec}'.")
    if sep and not arg:
        raise ConfigError(f"Asset pack spec '{spec}' has an empty argument; use '{info.usage}'.")
    if info.argument_required and not sep:
        raise ConfigError(f"Asset pack '{name}' needs an argument: use '{info.usage}'.")
    return info.loader(arg if sep else None)


@dataclass(frozen=True)
class BackgroundPackInfo:
    """A registered background-only pack whose images depend on the split.

    ``loader(split, argument)`` builds the pack of one of our splits; ``argument`` is the text
    after ``name:`` (``None`` without one), named ``argument`` in help messages (``None``: the
    pack takes none).
    """

    name: str
    loader: Callable[[str, str | None], AssetPack]
    description: str
    argument: str | None = None


#: Background-only packs, per split (``Transforms2D(background_pack=...)``): name -> info.
BACKGROUND_PACKS: dict[str, BackgroundPackInfo] = {}


def register_background_pack(name: str, loader: Callable[[str, str | None], AssetPack],
                             description: str, argument: str | None = None) -> None:
    """Add a split-dependent background pack (e.g. scenes rendered by a higher layer)."""
    if name in BACKGROUND_PACKS or name in ASSET_PACKS:
        raise ValueError(f"background pack {name!r} is already registered")
    BACKGROUND_PACKS[name] = BackgroundPackInfo(name, loader, description, argument)


for _name, _title in CIFAR_PACKS.items():
    register_background_pack(
        _name, lambda split, root, _name=_name: load_cifar_backgrounds(_name, split, root),
        f"{_title} images as backgrounds, classes as families; train/val from {_title} train "
        f"(disjoint), test from {_title} test", argument="<root>")


def load_background_pack(spec: str | AssetPack, split: str) -> AssetPack:
    """The pack whose backgrounds a dataset of ``split`` uses: a registered background pack
    (:data:`BACKGROUND_PACKS`, e.g. ``"cifar10[:<root>]"``: that split's CIFAR images), or any
    other pack spec (see :func:`load_assets`) or :class:`AssetPack`, the same for every split."""
    if isinstance(spec, str):
        name, sep, arg = spec.partition(":")
        name = name.strip()
        info = BACKGROUND_PACKS.get(name)
        if info is not None:
            if sep and info.argument is None:
                raise ConfigError(f"Background pack '{name}' takes no argument; use '{name}'.")
            if sep and not arg:
                raise ConfigError(f"Background pack spec '{spec}' has an empty "
                                  f"{info.argument.strip('<>')}; use '{name}' or "
                                  f"'{name}:{info.argument}'.")
            return info.loader(split, arg or None)
        if name not in ASSET_PACKS:
            raise unknown_name("background pack", name, [*ASSET_PACKS, *BACKGROUND_PACKS])
    return load_assets(spec)
