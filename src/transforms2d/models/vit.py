"""Vision Transformer for small images: 4×4 patches, CLS token, learned positions, pre-norm.

At 32 px: 64 patch tokens + CLS. ``features`` is the CLS token after the final LayerNorm.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .. import DEFAULT_IMAGE_SIZE
from ..errors import ConfigError
from ..validation import check_int
from .base import T2DModel
from .registry import register_model


class Attention(nn.Module):
    """Multi-head self-attention: ``(B, N, dim) -> (B, N, dim)``."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise ConfigError(f"ViT hidden size {dim} must be divisible by num_heads "
                              f"{num_heads}; pick another embed_dim or num_heads.")
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.num_heads, d // self.num_heads).unbind(2)
        out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2),
                                             v.transpose(1, 2))
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    """Pre-norm transformer block: ``x + attn(ln(x))``, then ``x + mlp(ln(x))`` (GELU)."""

    def __init__(self, dim: int, num_heads: int, mlp_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Linear(mlp_dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(T2DModel):
    """ViT with a CLS token and learned position embeddings, no dropout.

    Args:
        patch_size: side of the square patches (a linear map of each, as a strided conv).
        embed_dim, depth, num_heads, mlp_dim: hidden size, blocks, heads, MLP width.
        image_size: input side; must be divisible by ``patch_size``; fixes the number of
            position embeddings ``(image_size / patch_size)^2 + 1``.

    Shapes: ``features: (B, in_chans, image_size, image_size) -> (B, embed_dim)``.
    """

    def __init__(self, patch_size: int = 4, embed_dim: int = 384, depth: int = 7,
                 num_heads: int = 8, mlp_dim: int = 1536, num_classes: int = 10,
                 in_chans: int = 3, image_size: int = DEFAULT_IMAGE_SIZE) -> None:
        super().__init__(image_size)
        for name, v in [("patch_size", patch_size), ("embed_dim", embed_dim), ("depth", depth),
                        ("num_heads", num_heads), ("mlp_dim", mlp_dim), ("in_chans", in_chans)]:
            check_int(name, v, 1)
        if image_size % patch_size:
            raise ConfigError(f"ViT image_size {image_size} must be divisible by the patch size "
                              f"{patch_size}; use e.g. {image_size - image_size % patch_size}.")
        self.patch_size = patch_size
        num_patches = (image_size // patch_size) ** 2
        self.patch_embed = nn.Conv2d(in_chans, embed_dim, patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        self.blocks = nn.Sequential(*[Block(embed_dim, num_heads, mlp_dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim)
        self.num_features = embed_dim
        self._init_weights()
        self.reset_head(num_classes)

    def _init_weights(self) -> None:
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        w = self.patch_embed.weight
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.zeros_(self.patch_embed.bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, S, S) -> (B, embed_dim)``: the CLS token after the final LayerNorm."""
        if x.shape[-2:] != (self.image_size, self.image_size):
            raise ConfigError(f"This ViT was built for {self.image_size}-px inputs, got "
                              f"{tuple(x.shape[-2:])}; create it with image_size={x.shape[-1]}.")
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2)  # (B, N, D)
        cls = self.cls_token.expand(tokens.shape[0], -1, -1)
        tokens = torch.cat([cls, tokens], dim=1) + self.pos_embed
        return self.norm(self.blocks(tokens))[:, 0]


@register_model("vit", paper=True)
def vit(num_classes: int = 10, **kwargs) -> ViT:
    """The paper's ViT: 4×4 patches, hidden 384, 7 layers, 8 heads, MLP 1536, 384-d CLS."""
    cfg = dict(patch_size=4, embed_dim=384, depth=7, num_heads=8, mlp_dim=1536)
    return ViT(num_classes=num_classes, **{**cfg, **kwargs})


@register_model("vit")
def vit_s(num_classes: int = 10, **kwargs) -> ViT:
    """Small CPU ViT: 8×8 patches (16 tokens at 32 px), hidden 96, 4 layers, 4 heads, MLP 192.

    With the paper's 4×4 patches (``patch_size=4``: 64 tokens) it trains 4× slower on a CPU.
    """
    cfg = dict(patch_size=8, embed_dim=96, depth=4, num_heads=4, mlp_dim=192)
    return ViT(num_classes=num_classes, **{**cfg, **kwargs})
