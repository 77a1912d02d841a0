"""Batched renderer: object canvases and backgrounds live on the device as uint8 tensors;
a batch of samples is rendered from its indices with tensor ops only (no per-sample Python).

Convention: sample ``i`` of a split is a pure function of (spec, split, i, epoch, transform
seed). Object, background, label and object presence depend on (seed, split, i) only;
transform parameters also on the transform seed and — for the train split — the epoch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._malloc import tune_malloc
from ..assets import AssetPack
from ..assets.base import resize_uint8
from ..rng import Draws, derive_key
from ..transforms import apply_params, get_transform, sample_params
from ..transforms.ops import shift_per_sample
from .spec import DatasetSpec

OBJECT_SCALE = 0.7  # the object box is 70% of the canvas side (docs/protocol.md §1.1)


def object_box(size: int, scale: float = OBJECT_SCALE, position: str = "center"
               ) -> tuple[int, int, int]:
    """``(side, top, left)`` of the object box on the canvas; ``"anywhere"`` starts centred
    (each sample is then shifted, see :meth:`Renderer.render`)."""
    box = max(1, round(scale * size))
    if position == "corner":  # upper right, with a 1 px margin per 32 px where it fits
        margin = min(round(size / 32), size - box)
        return box, margin, size - box - margin
    return box, (size - box) // 2, (size - box) // 2


# (id(pack), objects, size, scale, position) -> (pack, canvases); holding the pack keeps its id
# from being reused by another pack while the entry lives
_CANVASES: dict[tuple, tuple[AssetPack, torch.Tensor]] = {}


def cached_canvases(pack: AssetPack, objects: tuple[int, ...], size: int,
                    scale: float = OBJECT_SCALE, position: str = "center") -> torch.Tensor:
    """:func:`object_canvases`, computed once per process for each pack and layout (a run
    builds dozens of datasets over the same objects: invariance twins, probe sets)."""
    key = (id(pack), tuple(objects), size, scale, position)
    if key not in _CANVASES:
        if len(_CANVASES) >= 64:  # bounded: drop the oldest
            _CANVASES.pop(next(iter(_CANVASES)))
        _CANVASES[key] = (pack, object_canvases(pack, objects, size, scale, position))
    return _CANVASES[key][1]


def object_canvases(pack: AssetPack, objects: tuple[int, ...], size: int,
                    scale: float = OBJECT_SCALE, position: str = "center") -> torch.Tensor:
    """``(K, 4, size, size)`` uint8 RGBA canvases: each object resized to size², scaled by
    ``scale`` and placed on a transparent canvas (centred by default: 22×22 at offset 5 for
    32 px; see :func:`object_box`).

    Transparent pixels take the colour of the nearest opaque ones ("colour bleed"), so that
    bilinear warps and blurs of straight-alpha images do not pull black into the edges.
    """
    full = pack.objects_at(size)[list(objects)]
    box, top, left = object_box(size, scale, position)
    canvas = torch.zeros(len(objects), 4, size, size, dtype=torch.uint8)
    canvas[:, :, top:top + box, left:left + box] = resize_uint8(full, box)
    return bleed_colour(canvas)


def bleed_colour(canvas: torch.Tensor) -> torch.Tensor:
    """Fill the RGB of fully transparent pixels by iterated averaging of known neighbours."""
    x = canvas.float()
    known = (x[:, 3:4] > 0).float()
    rgb = x[:, :3] * known
    for _ in range(canvas.shape[-1]):
        if bool(known.all()):
            break
        s = F.avg_pool2d(rgb, 3, 1, 1, count_include_pad=False)
        k = F.avg_pool2d(known, 3, 1, 1, count_include_pad=False)
        fill = (k > 0) & (known == 0)
        rgb = torch.where(fill, s / k.clamp_min(1e-8), rgb)
        known = torch.maximum(known, (k > 0).float())
    out = canvas.clone()
    out[:, :3] = rgb.round().clamp(0, 255).to(torch.uint8)
    return out


class Renderer:
    """Renders batches of a :class:`DatasetSpec` from a resident asset pack.

    Args:
        spec: a validated dataset spec.
        pack: the asset pack the spec's object indices refer to.
        device: where assets live and batches are rendered.
        background_pack: the pack whose background images and families are used (default:
            ``pack``), e.g. the split's CIFAR images.
    """

    def __init__(self, spec: DatasetSpec, pack: AssetPack, device: str | torch.device = "cpu",
                 background_pack: AssetPack | None = None):
        self.spec = spec
        self.device = torch.device(device)
        if self.device.type == "cpu":
            tune_malloc()
        s = spec.image_size
        self.canvases = cached_canvases(pack, spec.objects, s, spec.object_scale,
                                        spec.object_position).to(self.device)
        self.num_classes = len(spec.objects) if spec.class_from == "object" else len(spec.families)
        self.bgs = None
        bpack = pack if background_pack is None else background_pack
        self.cycle = bpack.cycle_backgrounds and spec.class_from == "background"
        if spec.backgrounds == "images":
            self.bgs = bpack.backgrounds_at(s).to(self.device)
            fams = spec.families or bpack.families
            groups: dict[str, list[int]] = {}  # one pass: packs may hold 50k backgrounds
            for j, t in enumerate(bpack.background_families):
                groups.setdefault(t, []).append(j)
            members = [groups.get(f, []) for f in fams]
            width = max(len(m) for m in members)
            self.family_members = torch.tensor(
                [m + [m[0]] * (width - len(m)) for m in members], device=self.device)
            self.family_sizes = torch.tensor([len(m) for m in members], device=self.device)
            self.bg_pool = torch.tensor(sorted(j for m in members for j in m), device=self.device)
        self.sample_key = derive_key(spec.seed, "sample", spec.split)

    # -- per-sample identity: label, object, background, presence -------------------------
    def identity(self, index: torch.Tensor) -> dict[str, torch.Tensor]:
        """Label ``(B,)``, object slot ``(B,)`` (into ``spec.objects``), background index
        ``(B,)`` (-1 without images), object presence ``(B,)`` bool and placement ``(B, 2)``
        in [0, 1) (used by ``object_position="anywhere"``) for sample indices."""
        sp = self.spec
        d = Draws(self.sample_key, index)
        label = index % self.num_classes  # exactly balanced
        corr = d.bernoulli(sp.correlation)
        n_obj = len(sp.objects)
        if sp.class_from == "object":
            obj = label
            linked_family = label  # class k pairs with family k (fixed one-to-one)
        else:
            obj = torch.where(corr, label, d.integers(n_obj))
            linked_family = label
            if sp.object_seed and n_obj > 1:  # the twin holds another object, never the same
                other = Draws(derive_key(sp.seed, "object-twin", sp.split, sp.object_seed), index)
                obj = (obj + 1 + other.integers(n_obj - 1)) % n_obj
        present = d.bernoulli(sp.object_availability)
        bg = torch.full_like(index, -1)
        if self.bgs is not None:
            pick = d.bits(1)[:, 0]
            if sp.background_seed:  # the twin's background: an independent draw
                pick = Draws(derive_key(sp.seed, "background-twin", sp.split, sp.background_seed),
                             index).bits(1)[:, 0]
            if sp.class_from == "object":
                fam = linked_family % len(self.family_sizes)  # only used where corr is True
                in_family = self.family_members[fam, (pick * self.family_sizes[fam]) >> 32]
                anywhere = self.bg_pool[(pick * len(self.bg_pool)) >> 32]
                bg = torch.where(corr, in_family, anywhere)
            else:
                size = self.family_sizes[label]
                slot = (index // self.num_classes) % size if self.cycle else (pick * size) >> 32
                bg = self.family_members[label, slot]
        place = d.uniform(2)  # drawn last: the draws above stay what they were before it
        return {"label": label, "object": obj, "background": bg, "present": present,
                "place": place}

    # -- rendering -------------------------------------------------------------------------
    def transform_lists(self, label: torch.Tensor):
        """Yield (positions, transform list) groups: one group unless per-class lists are set."""
        t = self.spec.transforms
        if not isinstance(t, dict):
            yield None, t
            return
        for lst in dict.fromkeys(t.values()):
            classes = [c for c, v in t.items() if v == lst]
            mask = torch.isin(label, torch.tensor(classes, device=label.device))
            pos = mask.nonzero().squeeze(1)
            if pos.numel():
                yield pos, lst

    def objects(self, index: torch.Tensor, label: torch.Tensor, obj: torch.Tensor,
                epoch: int) -> torch.Tensor:
        """Transformed RGBA object canvases ``(B, 4, S, S)`` float32 in [0, 1]."""
        sp = self.spec
        ep = epoch if sp.split == "train" else 0
        key = derive_key(sp.seed, "transform", sp.split, sp.transform_seed, ep)
        x = self.canvases.index_select(0, obj).float().mul_(1.0 / 255.0)
        for pos, lst in self.transform_lists(label):
            sub = x if pos is None else x.index_select(0, pos)
            d = Draws(key, index if pos is None else index[pos])
            for k, (name, overrides) in enumerate(lst):
                info = get_transform(name)
                params = sample_params(info, d.child(f"{k}:{name}"), sp.image_size,
                                       dict(overrides))
                sub = apply_params(info, sub, params)
            x = sub if pos is None else x.index_copy(0, pos, sub)
        return x

    def backgrounds(self, index: torch.Tensor, bg: torch.Tensor) -> torch.Tensor:
        """Backgrounds ``(B, 3, S, S)`` float32 in [0, 1]."""
        s, b = self.spec.image_size, index.shape[0]
        if self.spec.backgrounds == "images":
            return self.bgs.index_select(0, bg).float().mul_(1.0 / 255.0)
        if self.spec.backgrounds == "black":
            return torch.zeros(b, 3, s, s, device=self.device)
        d = Draws(derive_key(self.spec.seed, "random-background", self.spec.split), index)
        return d.table("byte", 3 * s * s).view(b, 3, s, s).float().mul_(1.0 / 255.0)

    def render(self, index: torch.Tensor, epoch: int = 0):
        """Render samples ``index (B,)`` → images ``(B, 3, S, S)`` float32 in [-1, 1] and
        labels ``(B,)`` int64."""
        index = torch.as_tensor(index, dtype=torch.int64, device=self.device).reshape(-1)
        ident = self.identity(index)
        x = self.objects(index, ident["label"], ident["object"], epoch)
        if self.spec.object_position == "anywhere":  # move the centred box to its place
            box, off, _ = object_box(self.spec.image_size, self.spec.object_scale)
            room = self.spec.image_size - box + 1
            dy, dx = ((ident["place"] * room).floor().clamp_(max=room - 1) - off).unbind(1)
            x = shift_per_sample(x, dy, dx)
        bg = self.backgrounds(index, ident["background"])
        alpha = x[:, 3:4]
        if not bool(ident["present"].all()):
            alpha = alpha * ident["present"][:, None, None, None]
        # Alpha-composite in place: out = bg + a * (fg - bg), then normalise to [-1, 1].
        bg.add_(x[:, :3].sub_(bg).mul_(alpha))
        return bg.mul_(2.0).sub_(1.0).clamp_(-1.0, 1.0), ident["label"]
