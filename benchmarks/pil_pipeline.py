"""Per-sample Pillow + NumPy reference pipeline for Transforms-2D (docs/protocol.md §1.1, §2).

This is the BASELINE that ``benchmarks/bench_generator.py`` measures our batched PyTorch
renderer against. It deliberately mirrors the way the paper's authors produced images: one
sample at a time, on PIL images, with torchvision-style per-sample ops (PIL ``transform`` /
``rotate`` for geometry, ``ImageEnhance`` / ``ImageOps`` for colour, ``GaussianBlur``), and NumPy
only where PIL has no such op (noise, elastic). It is meant to be an honest baseline: nothing
is re-decoded, copies are avoided where PIL allows, but nothing is batched or shared between
samples (the object canvas is rebuilt for every sample, as the per-sample API implies).

Spatial constants are given in pixels at S=32 (erasing square 14, elastic sigma 5 / alpha 150);
at other sizes they are scaled so that an image looks the same (visualisations use S=64).
"""

from __future__ import annotations

import functools
import time

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps, ImageStat

BILINEAR = Image.Resampling.BILINEAR
Box = tuple[float, float, float, float] | None  # object's bounding box on the canvas, or unknown


# ---------------------------------------------------------------- helpers
def _on_rgb(canvas: Image.Image, fn) -> Image.Image:
    """Apply ``fn`` (RGB -> RGB) to the colour of the canvas, keeping its alpha mask."""
    alpha = canvas.getchannel("A")
    out = fn(canvas.convert("RGB"))  # RGBA -> RGB just drops alpha in Pillow
    out.putalpha(alpha)
    return out


def _affine(canvas: Image.Image, m: np.ndarray) -> Image.Image:
    """Forward 2x2 linear map ``m`` about the canvas centre; bilinear, transparent fill."""
    s = canvas.width
    c = s / 2.0
    inv = np.array([[m[1, 1], -m[0, 1]], [-m[1, 0], m[0, 0]]]) / np.linalg.det(m)  # out -> in
    off = c - inv @ np.array([c, c])
    data = (inv[0, 0], inv[0, 1], off[0], inv[1, 0], inv[1, 1], off[1])
    # Pillow premultiplies alpha for bilinear RGBA transforms, so edges stay clean.
    return canvas.transform((s, s), Image.Transform.AFFINE, data, resample=BILINEAR)


@functools.lru_cache(maxsize=16)
def _gauss_matrix(n: int, sigma: float) -> np.ndarray:
    """(n, n) matrix of a 1-D Gaussian filter with reflect boundary; K @ X @ K.T filters 2-D."""
    taps = np.arange(-int(4 * sigma + 0.5), int(4 * sigma + 0.5) + 1)
    w = np.exp(-0.5 * (taps / sigma) ** 2)
    k, period = np.zeros((n, n)), max(2 * (n - 1), 1)
    for i in range(n):
        j = np.abs(i + taps) % period
        np.add.at(k[i], np.where(j >= n, period - j, j), w / w.sum())
    return k


def _p_half(fn):
    """Apply ``fn`` with probability 0.5, identity otherwise (the table's "p=0.5")."""

    @functools.wraps(fn)
    def wrapped(im, box, rng):
        return fn(im, box, rng) if rng.random() < 0.5 else (im, box)

    return wrapped


# ---------------------------------------------------------------- transforms
# Each takes (canvas, bbox, rng) and returns (canvas, bbox). The canvas is RGBA, size S x S.
def t_none(im, box, rng):
    return im, box


def t_scale(im, box, rng):
    f = rng.uniform(0.4, 1.0)
    c = im.width / 2.0
    if box is not None:
        box = tuple(c + (v - c) * f for v in box)
    return _affine(im, np.diag([f, f])), box


def t_translate(im, box, rng):
    s = im.width
    if box is None:
        box = im.getchannel("A").getbbox() or (0, 0, s, s)
    x0, y0 = (max(0, int(np.floor(v))) for v in box[:2])  # integer box, clipped to the canvas
    x1, y1 = (min(s, int(np.ceil(v))) for v in box[2:])
    w, h = x1 - x0, y1 - y0
    nx, ny = int(rng.integers(0, s - w + 1)), int(rng.integers(0, s - h + 1))
    out = Image.new("RGBA", (s, s))
    out.paste(im.crop((x0, y0, x1, y1)), (nx, ny))
    return out, (nx, ny, nx + w, ny + h)


@_p_half
def t_v_flip(im, box, rng):
    if box is not None:
        box = (box[0], im.height - box[3], box[2], im.height - box[1])
    return ImageOps.flip(im), box


@_p_half
def t_h_flip(im, box, rng):
    if box is not None:
        box = (im.width - box[2], box[1], im.width - box[0], box[3])
    return ImageOps.mirror(im), box


def t_rotate(im, box, rng):
    return im.rotate(rng.uniform(0.0, 360.0), resample=BILINEAR), None  # transparent fill


def t_shear(im, box, rng):
    tx, ty = np.tan(np.deg2rad(rng.uniform(-50.0, 50.0, size=2)))
    m = np.array([[1.0, 0.0], [-ty, 1.0]]) @ np.array([[1.0, -tx], [0.0, 1.0]])  # torchvision
    return _affine(im, m), None


def t_hue(im, box, rng):
    # torchvision's PIL path: shift the 8-bit H channel of PIL's HSV (hue is per pixel, and
    # alpha is kept, so only the object changes).
    shift = int(round(rng.uniform(-0.5, 0.5) * 255))
    h, s, v = im.convert("RGB").convert("HSV").split()
    h = h.point([(i + shift) % 256 for i in range(256)])
    out = Image.merge("HSV", (h, s, v)).convert("RGB")
    out.putalpha(im.getchannel("A"))
    return out, box


def t_brightness(im, box, rng):
    f = rng.uniform(0.0, 2.0)
    return _on_rgb(im, lambda rgb: ImageEnhance.Brightness(rgb).enhance(f)), box


@_p_half
def t_grayscale(im, box, rng):
    g = im.convert("L")
    return Image.merge("RGBA", (g, g, g, im.getchannel("A"))), box


@_p_half
def t_posterize(im, box, rng):
    return _on_rgb(im, lambda rgb: ImageOps.posterize(rgb, 1)), box


@_p_half
def t_invert(im, box, rng):
    return _on_rgb(im, ImageOps.invert), box


@_p_half
def t_sharpen(im, box, rng):
    return _on_rgb(im, lambda rgb: ImageEnhance.Sharpness(rgb).enhance(7.0)), box


def t_blur(im, box, rng):
    # Pillow's GaussianBlur takes sigma; its support is not clipped to the paper's 7x7 kernel.
    # Blurred premultiplied ("RGBa"), as Pillow's own resize/transform do: no dark fringe.
    blur = ImageFilter.GaussianBlur(rng.uniform(0.1, 1.5))
    return im.convert("RGBa").filter(blur).convert("RGBA"), None


@_p_half
def t_noise(im, box, rng):
    a = np.asarray(im)
    rgb = a[..., :3] * np.float32(1 / 255) + rng.standard_normal(a[..., :3].shape, np.float32)
    rgb = (np.clip(rgb, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    obj = a[..., 3:] > 0
    out = np.concatenate([np.where(obj, rgb, a[..., :3]), a[..., 3:]], axis=-1)
    return Image.fromarray(out, "RGBA"), box


@_p_half
def t_pixelate(im, box, rng):
    s, d = im.width, max(1, int(im.width * 0.3))
    return im.resize((d, d), Image.Resampling.BOX).resize((s, s), Image.Resampling.NEAREST), None


@_p_half
def t_elastic(im, box, rng):
    s, k = im.width, im.width / 32.0
    alpha, sigma = 150.0 * k * k, 5.0 * k  # displacement std stays a fixed fraction of S
    g = _gauss_matrix(s, sigma)
    d = alpha * (g @ rng.uniform(-1.0, 1.0, (2, s, s)) @ g.T)  # (dx, dy) smoothed, in pixels
    ys, xs = np.mgrid[0:s, 0:s]
    x, y = xs + d[0], ys + d[1]
    x0, y0 = np.floor(x), np.floor(y)
    wx, wy = (x - x0)[..., None], (y - y0)[..., None]
    src = np.zeros((s + 2, s + 2, 4), np.float32)  # zero border = transparent fill
    src[1:-1, 1:-1] = np.asarray(im)
    xa = np.clip(x0.astype(np.intp) + 1, 0, s + 1)
    ya = np.clip(y0.astype(np.intp) + 1, 0, s + 1)
    xb, yb = np.minimum(xa + 1, s + 1), np.minimum(ya + 1, s + 1)
    out = (src[ya, xa] * (1 - wx) + src[ya, xb] * wx) * (1 - wy) + (
        src[yb, xa] * (1 - wx) + src[yb, xb] * wx
    ) * wy
    return Image.fromarray((out + 0.5).astype(np.uint8), "RGBA"), None


@_p_half
def t_erasing(im, box, rng):
    e = max(1, round(14 * im.width / 32))
    x, y = (int(v) for v in rng.integers(0, im.width - e + 1, size=2))
    im.paste((0, 0, 0, 0), (x, y, x + e, y + e))  # the canvas is private to this sample
    return im, box


def t_contrast(im, box, rng):
    f = rng.uniform(0.0, 2.0)
    alpha = im.getchannel("A")  # grey level to blend with = mean over the object's pixels only
    mean = ImageStat.Stat(im.convert("L"), mask=alpha).mean[0] if alpha.getbbox() else 0.0
    out = Image.blend(Image.new("RGB", im.size, (int(mean + 0.5),) * 3), im.convert("RGB"), f)
    out.putalpha(alpha)
    return out, box


TRANSFORMS = {n[2:]: f for n, f in list(globals().items()) if n.startswith("t_")}
GEOMETRIC = ["scale", "translate", "v_flip", "h_flip", "rotate", "shear"]
PHOTOMETRIC = ["hue", "brightness", "grayscale", "posterize", "invert", "sharpen"]
CORRUPTION = ["blur", "noise", "pixelate", "elastic", "erasing", "contrast"]


# ---------------------------------------------------------------- pipeline
def render_sample(
    obj: Image.Image,
    bg: Image.Image,
    transforms: list[str],
    rng: np.random.Generator,
    size: int = 32,
) -> np.ndarray:
    """Render one sample b(t(o)) per docs/protocol.md §1.1: (3, size, size) float32 in [-1, 1]."""
    # 1. object: resize to S x S, scale by 0.7, centre on a transparent canvas
    inner = round(0.7 * size)
    off = (size - inner) // 2
    o = obj.convert("RGBA")
    if o.size != (size, size):  # callers may pass prototypes already at S x S (as packs hold them)
        o = o.resize((size, size), BILINEAR)
    o = o.resize((inner, inner), BILINEAR)
    canvas = Image.new("RGBA", (size, size))
    canvas.paste(o, (off, off))
    box: Box = (off, off, off + inner, off + inner)
    # 2. transforms in list order
    for name in transforms:
        canvas, box = TRANSFORMS[name](canvas, box, rng)
    # 3. background: largest top-left square, resized (the crop is fused into the resize)
    m = min(bg.size)
    if bg.size != (size, size):
        bg = bg.resize((size, size), BILINEAR, box=(0, 0, m, m))
    back = bg.convert("RGBA")
    # 4. composite, 5. normalise with mean 0.5 / std 0.5
    img = np.asarray(Image.alpha_composite(back, canvas))[..., :3].transpose(2, 0, 1)
    out = np.ascontiguousarray(img, dtype=np.float32)
    out *= np.float32(1 / 127.5)
    out -= np.float32(1.0)
    return out


# ---------------------------------------------------------------- self-check
def _synthetic_assets(n: int = 64) -> tuple[Image.Image, Image.Image]:
    """A disc coloured by angle (hue wheel, darker towards the centre) and a gradient background."""
    yy, xx = np.mgrid[0:n, 0:n] - (n - 1) / 2
    r, ang = np.hypot(xx, yy), np.arctan2(yy, xx)
    hsv = np.stack([(ang / (2 * np.pi) % 1) * 255, np.full_like(r, 255), 100 + 155 * r / r.max()])
    rgb = Image.fromarray(hsv.transpose(1, 2, 0).astype(np.uint8), "HSV").convert("RGB")
    rgb.putalpha(Image.fromarray(((r < n * 0.45) * 255).astype(np.uint8)))
    gx, gy = np.meshgrid(np.linspace(0, 255, 96), np.linspace(0, 255, 80))
    bg = np.stack([gx, gy, 255 - gx], axis=-1).astype(np.uint8)
    return rgb, Image.fromarray(bg, "RGB")


if __name__ == "__main__":
    obj, bg = _synthetic_assets()
    rng = np.random.default_rng(0)
    for name in TRANSFORMS:
        x = render_sample(obj, bg, [name], rng)
        assert x.shape == (3, 32, 32) and x.dtype == np.float32, (name, x.shape, x.dtype)
        assert x.min() >= -1.0 and x.max() <= 1.0, name
    n, best_of = 2000, 3
    cases = {t: [t] for t in TRANSFORMS} | {"geometric (6)": GEOMETRIC}
    cases |= {"photometric (6)": PHOTOMETRIC, "corruption (6)": CORRUPTION}
    cases |= {"all (18)": GEOMETRIC + PHOTOMETRIC + CORRUPTION, "none, 32px assets": []}
    pre = (obj.resize((32, 32), BILINEAR), bg.resize((32, 32), BILINEAR, box=(0, 0, 80, 80)))
    print(f"per-sample PIL baseline, size 32, {n} samples, best of {best_of}, single process")
    print(f"assets: {obj.size} RGBA object, {bg.size} RGB background (last line: pre-resized)")
    for label, ts in cases.items():
        o, b = pre if label.endswith("assets") else (obj, bg)
        best = float("inf")
        for _ in range(best_of):
            t0 = time.perf_counter()
            for _ in range(n):
                render_sample(o, b, ts, rng)
            best = min(best, time.perf_counter() - t0)
        print(f"  {label:18s} {n / best:8.0f} samples/s")
