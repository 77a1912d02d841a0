"""Procedural nature-scene backgrounds for the builtin pack (used by build_builtin_pack.py only).

Every scene is a pure function of a numpy ``Generator``: 1/f-spectrum (fractal) noise for clouds,
terrain profiles and textures, horizons at random heights, family palettes jittered per image.
Scenes are painted at ``GEN`` × ``GEN`` in float RGB in [0, 1] and box-downsampled 2× on output.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

GEN = 128  # generation resolution; tiles are GEN // 2
Y = np.arange(GEN, dtype=np.float64)[:, None] + 0.5  # pixel-centre row coordinate, (GEN, 1)
X = np.arange(GEN, dtype=np.float64)[None, :] + 0.5  # pixel-centre column coordinate, (1, GEN)


# --------------------------------------------------------------------------- noise + colour
def fbm(rng: np.random.Generator, beta: float = 2.0, stretch: tuple[float, float] = (1.0, 1.0),
        n: int = GEN) -> np.ndarray:
    """``(n, n)`` noise with power spectrum ~ 1/f^beta, zero mean and unit std.

    ``stretch = (sy, sx)`` scales the frequency axes: sx > 1 makes features wider than tall.
    """
    fy = np.fft.fftfreq(n)[:, None] * stretch[0]
    fx = np.fft.rfftfreq(n)[None, :] * stretch[1]
    f = np.hypot(fy, fx)
    f[0, 0] = 1.0
    shape = (n, n // 2 + 1)
    spec = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * f ** (-beta / 2)
    spec[0, 0] = 0.0
    x = np.fft.irfft2(spec, s=(n, n))
    return (x - x.mean()) / x.std()


def fbm1d(rng: np.random.Generator, beta: float = 2.0, n: int = GEN) -> np.ndarray:
    """``(n,)`` 1/f^beta noise, zero mean and unit std (for horizon and ridge profiles)."""
    f = np.fft.rfftfreq(n)
    f[0] = 1.0
    spec = (rng.standard_normal(f.shape) + 1j * rng.standard_normal(f.shape)) * f ** (-beta / 2)
    spec[0] = 0.0
    x = np.fft.irfft(spec, n=n)
    return (x - x.mean()) / x.std()


def jitter(rng: np.random.Generator, rgb, s: float = 0.06) -> np.ndarray:
    """A palette colour with per-channel multiplicative jitter (shifts hue and brightness)."""
    return np.clip(np.asarray(rgb, dtype=np.float64) * np.exp(rng.normal(0.0, s, 3)), 0.0, 1.0)


def vgrad(top, bottom, y0: float, y1: float, gamma: float = 1.0) -> np.ndarray:
    """``(GEN, 1, C)`` vertical gradient from ``top`` at row y0 to ``bottom`` at row y1."""
    t = np.clip((Y - y0) / max(y1 - y0, 1.0), 0.0, 1.0) ** gamma  # (GEN, 1)
    top, bottom = np.atleast_1d(top).astype(float), np.atleast_1d(bottom).astype(float)
    return (top * (1 - t) + bottom * t)[:, None, :]


def below(profile: np.ndarray) -> np.ndarray:
    """``(GEN, GEN, 1)`` antialiased coverage of the region under a per-column row profile."""
    return np.clip(Y - profile[None, :] + 0.5, 0.0, 1.0)[..., None]


def paint(img: np.ndarray, cov: np.ndarray, color: np.ndarray) -> None:
    """Blend ``color`` (broadcastable to img) over ``img`` in place with coverage ``cov``."""
    img *= 1.0 - cov
    img += cov * color


def shade(height: np.ndarray, k: float = 2.0) -> np.ndarray:
    """``(GEN, GEN, 1)`` Lambert-like lighting of a height field lit from the upper left."""
    gy, gx = np.gradient(height)
    return np.clip(1.0 - k * (gx + gy) / np.sqrt(2), 0.3, 1.6)[..., None]


# --------------------------------------------------------------------------- shared layers
SKIES = {  # (zenith, horizon) palettes by time of day
    "day": ((0.16, 0.36, 0.76), (0.66, 0.80, 0.95)),
    "haze": ((0.36, 0.55, 0.82), (0.85, 0.88, 0.90)),
    "golden": ((0.26, 0.36, 0.66), (0.98, 0.72, 0.46)),
    "overcast": ((0.55, 0.59, 0.66), (0.80, 0.82, 0.84)),
}


def sky(rng: np.random.Generator, horizon: float, tod: str, clouds: float) -> np.ndarray:
    """``(GEN, GEN, 3)`` sky down to row ``horizon`` (continued below it), with fractal clouds.

    ``clouds`` in [0, 1] is the cloud cover.
    """
    top, hor = (jitter(rng, c, 0.07) for c in SKIES[tod])
    img = np.broadcast_to(vgrad(top, hor, 0, max(horizon, 8.0), rng.uniform(0.6, 1.4)),
                          (GEN, GEN, 3)).copy()
    if clouds > 0:
        c = fbm(rng, rng.uniform(2.6, 3.4), (1.0, rng.uniform(1.5, 3.0)))
        thr = 1.2 - 2.2 * clouds
        dens = np.clip((c - thr) / 0.9, 0.0, 1.0)[..., None]
        white = jitter(rng, (0.97, 0.96, 0.95) if tod != "golden" else (1.0, 0.86, 0.74), 0.03)
        under = white * (0.62 if tod == "overcast" else 0.78)
        col = white * (1 - dens**2)[...] + under * dens**2
        paint(img, 0.9 * dens * np.clip(1.1 - Y / max(horizon, 8.0) * 0.3, 0, 1)[..., None], col)
    return img


def ridge_profile(rng: np.random.Generator, base: float, amp: float, beta: float) -> np.ndarray:
    """Per-column row of a terrain ridge: ``base`` ± ``amp`` pixels of 1/f^beta noise."""
    return base + amp * fbm1d(rng, beta)


def haze(color: np.ndarray, horizon_color: np.ndarray, amount: float) -> np.ndarray:
    """Atmospheric perspective: far layers fade towards the horizon colour."""
    return color * (1 - amount) + horizon_color * amount


def tod_of(rng: np.random.Generator, weights=(0.55, 0.15, 0.15, 0.15)) -> str:
    return str(rng.choice(list(SKIES), p=np.asarray(weights) / np.sum(weights)))


# --------------------------------------------------------------------------- the families
def scene_sky(rng):
    tod = tod_of(rng, (0.6, 0.15, 0.2, 0.05))
    img = sky(rng, GEN * rng.uniform(0.9, 1.3), tod, rng.uniform(0.15, 0.85))
    if rng.random() < 0.35:  # a thin distant hill line
        hor = SKIES[tod][1]
        far = haze(jitter(rng, (0.25, 0.35, 0.30), 0.1), np.asarray(hor), 0.5)
        paint(img, below(ridge_profile(rng, GEN * rng.uniform(0.88, 0.95), 3, 2.5)), far)
    return img


def scene_sea(rng):
    tod = tod_of(rng)
    h = GEN * rng.uniform(0.28, 0.58)
    img = sky(rng, h, tod, rng.uniform(0.0, 0.6))
    hor = img[int(h) - 1, GEN // 2]
    deep = jitter(rng, rng.choice([(0.03, 0.18, 0.38), (0.02, 0.28, 0.36), (0.06, 0.22, 0.45)]),
                  0.1)
    far = haze(deep, hor, rng.uniform(0.25, 0.55))
    water = vgrad(far, deep * rng.uniform(0.7, 1.1), h, GEN, 0.7)
    t = np.clip((Y - h) / (GEN - h), 0, 1)[..., None]  # 0 at the horizon, 1 at the bottom
    waves = fbm(rng, 2.4, (1.0, rng.uniform(4, 8)))[..., None]
    water = water * (1 + 0.12 * waves * (0.25 + t)) + 0.10 * np.clip(waves - 1.3, 0, None) * t
    if tod in ("golden", "day") and rng.random() < 0.6:  # sun glint column
        sx = rng.uniform(0.2, 0.8) * GEN
        glint = np.exp(-(((X - sx) / (6 + 20 * t[..., 0])) ** 2))[..., None]
        water = water + 0.35 * glint * np.clip(waves, 0, None) * np.asarray(hor)
    paint(img, below(np.full(GEN, h)), water)
    if rng.random() < 0.3:  # sandy shore in the foreground
        sand = jitter(rng, (0.86, 0.76, 0.55), 0.06)
        prof = ridge_profile(rng, GEN * rng.uniform(0.82, 0.93), 3, 3.0) + (X[0] - GEN / 2) * \
            rng.uniform(-0.15, 0.15)
        paint(img, below(prof), sand * (1 + 0.05 * fbm(rng, 1.8)[..., None]))
    return img


def scene_forest(rng):
    tod = tod_of(rng, (0.5, 0.2, 0.15, 0.15))
    h = GEN * rng.uniform(0.05, 0.45)
    img = sky(rng, h + 20, tod, rng.uniform(0.0, 0.7))
    hor = np.asarray(SKIES[tod][1])
    autumn = rng.random() < 0.15
    base = (0.55, 0.35, 0.10) if autumn else rng.choice([(0.12, 0.30, 0.12), (0.18, 0.34, 0.10),
                                                          (0.08, 0.24, 0.14)])
    conifer = rng.random() < 0.55
    layers = int(rng.integers(2, 4))
    for i in range(layers):  # far to near treelines
        near = (i + 1) / layers
        top = h + (GEN - h) * 0.28 * i
        if conifer:  # jagged spruce tops: lower envelope of triangles
            xs = rng.uniform(-8, GEN + 8, 40 + 10 * i)
            tops = top - rng.uniform(4, 14 + 10 * near, xs.size)
            slope = rng.uniform(1.8, 3.2, xs.size)
            prof = np.min(tops[:, None] + slope[:, None] * np.abs(X - xs[:, None]), axis=0)
        else:  # rounded deciduous canopy
            prof = top - 6 * near - 5 * np.abs(fbm1d(rng, 1.6)) - 4 * fbm1d(rng, 2.8)
        col = haze(jitter(rng, base, 0.12) * (0.75 + 0.5 * near), hor, 0.55 * (1 - near) ** 1.5)
        tex = 1 + (0.10 + 0.15 * near) * fbm(rng, 2.1)[..., None]
        paint(img, below(prof), col * tex * vgrad(1.1, 0.8, prof.mean(), GEN))
    return img


def scene_desert(rng):
    tod = tod_of(rng, (0.55, 0.25, 0.2, 0.0))
    h = GEN * rng.uniform(0.25, 0.55)
    img = sky(rng, h, tod, rng.uniform(0.0, 0.3))
    hor = np.asarray(SKIES[tod][1])
    sand = jitter(rng, rng.choice([(0.88, 0.66, 0.38), (0.92, 0.76, 0.50), (0.80, 0.50, 0.28)]),
                  0.06)
    if rng.random() < 0.35:  # distant mesas
        prof = ridge_profile(rng, h - rng.uniform(3, 12), 4, 1.4)
        prof = np.where(fbm1d(rng, 3.0) > rng.uniform(-0.3, 0.6), prof, h + 1)
        paint(img, below(prof), haze(sand * 0.6, hor, 0.45))
    layers = int(rng.integers(2, 5))
    sun = rng.choice([-1.0, 1.0])  # which side of the crests is lit
    for i in range(layers):  # far to near dune ridges
        near = (i + 1) / layers
        prof = ridge_profile(rng, h + (GEN - h) * 0.3 * i, 3 + 6 * near, 3.6)
        side = np.tanh(sun * np.gradient(prof) * 2.0)[None, :]  # lit (+) or slip (-) face
        d = np.clip((Y - prof[None, :]) / (6 + 16 * near), 0, 1)  # 0 at the crest
        light = 1 + 0.22 * side * (1 - d) - 0.08 * d + 0.04 * fbm(rng, 4.0, (1, 2))
        ripples = 1 + 0.03 * near * np.sin(Y * 1.3 + 4 * fbm(rng, 3.0, (1, 3)))
        col = haze(sand * (0.85 + 0.2 * near), hor, 0.4 * (1 - near))
        paint(img, below(prof), col * (light * ripples)[..., None])
    return img


def scene_snow(rng):
    tod = tod_of(rng, (0.45, 0.2, 0.1, 0.25))
    h = GEN * rng.uniform(0.25, 0.55)
    img = sky(rng, h, tod, rng.uniform(0.0, 0.8))
    hor = np.asarray(SKIES[tod][1])
    snow = jitter(rng, (0.93, 0.95, 0.98), 0.03)
    shadow = jitter(rng, (0.62, 0.70, 0.85), 0.05)
    if rng.random() < 0.75:  # snowy mountains with rock showing on steep parts
        prof = ridge_profile(rng, h - rng.uniform(10, 35), rng.uniform(6, 14), 1.8)
        relief = fbm(rng, 2.2)
        light = shade(relief * 6, 1.0)
        rock = jitter(rng, (0.35, 0.35, 0.38), 0.1)
        cover = np.clip((relief + 0.6 - 0.01 * (Y - prof[None, :])) * 2, 0, 1)[..., None]
        col = rock * (1 - cover) + (snow * (light > 1) + shadow * (light <= 1)) * cover
        paint(img, below(prof), haze(col * np.clip(light, 0.6, 1.2), hor, 0.3))
    field = ridge_profile(rng, h, 2.5, 3.0)
    relief = fbm(rng, 3.2, (1, 2.5))
    t = np.clip(0.5 + 0.35 * relief, 0, 1)[..., None]
    paint(img, below(field), snow * t + shadow * (1 - t) * 1.05)
    if rng.random() < 0.35:  # a few dark snow-dusted firs
        for _ in range(int(rng.integers(2, 7))):
            x0, w = rng.uniform(0, GEN), rng.uniform(4, 10)
            y1 = rng.uniform(field.mean() + 5, GEN + 5)
            y0 = y1 - w * rng.uniform(2.0, 3.5)
            cov = ((y0 < Y) & (y1 > Y) & (np.abs(X - x0) < w * (Y - y0) / (y1 - y0)))[..., None]
            fir = jitter(rng, (0.10, 0.20, 0.16), 0.1) + 0.3 * (relief > 1)[..., None]  # snow
            paint(img, cov * 1.0, fir)
    return img


def scene_meadow(rng):
    tod = tod_of(rng, (0.65, 0.15, 0.15, 0.05))
    h = GEN * rng.uniform(0.25, 0.6)
    img = sky(rng, h, tod, rng.uniform(0.1, 0.7))
    hor = np.asarray(SKIES[tod][1])
    grass = jitter(rng, rng.choice([(0.36, 0.60, 0.18), (0.48, 0.66, 0.20), (0.30, 0.52, 0.16)]),
                   0.08)
    layers = int(rng.integers(1, 4))
    for i in range(layers):
        near = (i + 1) / layers
        prof = ridge_profile(rng, h + (GEN - h) * 0.25 * i, 2 + 6 * near, 3.6)
        blades = fbm(rng, 2.0, (0.25, 1.0))[..., None]  # tall thin features
        patches = fbm(rng, 3.0)[..., None]
        col = grass * (0.9 + 0.15 * patches) * (1 + 0.12 * near * blades)
        col = col * np.asarray([1 + 0.1 * near, 1.0, 0.9])  # nearer grass warmer
        paint(img, below(prof), haze(col, hor, 0.5 * (1 - near) ** 2))
    # flowers: sparse coloured dots, denser and larger towards the foreground
    hues = np.asarray([(1.0, 0.92, 0.2), (1.0, 1.0, 1.0), (0.9, 0.2, 0.2), (0.6, 0.4, 0.9)])
    pal = hues[rng.choice(4, size=2, replace=False)]
    dens = rng.uniform(0.0, 0.03) * np.clip((Y - h) / (GEN - h), 0, 1)
    dots = rng.random((GEN, GEN)) < dens
    which = rng.integers(0, 2, (GEN, GEN))
    paint(img, dots[..., None] * 0.85, pal[which])
    return img


def scene_rock(rng):
    img = np.zeros((GEN, GEN, 3))
    sky_h = GEN * rng.uniform(0.05, 0.3) if rng.random() < 0.5 else -10.0
    if sky_h > 0:
        img = sky(rng, sky_h + 10, tod_of(rng), rng.uniform(0, 0.5))
    stone = jitter(rng, rng.choice([(0.50, 0.48, 0.46), (0.55, 0.40, 0.30), (0.62, 0.46, 0.34),
                                    (0.32, 0.31, 0.32)]), 0.07)
    # boulders/facets: fractal-warped Voronoi cells, each a tilted plane, dark cracks between
    n = int(rng.integers(12, 60))
    pts = rng.uniform(-10, GEN + 10, (n, 2))
    wy, wx = 5 * fbm(rng, 3.8), 5 * fbm(rng, 3.8)
    dist = np.hypot((Y + wy)[None] - pts[:, 0, None, None], (X + wx)[None] - pts[:, 1, None, None])
    order = np.argsort(dist, axis=0)
    cell = order[0]
    f1 = np.take_along_axis(dist, order[:1], 0)[0]
    f2 = np.take_along_axis(dist, order[1:2], 0)[0]
    tilt = rng.normal(0, 0.012, (n, 2))  # per-facet slope seen as a brightness ramp
    base = 1 + rng.normal(0, 0.12, n)
    light = base[cell] + tilt[cell, 0] * (Y - pts[cell, 0]) + tilt[cell, 1] * (X - pts[cell, 1])
    light = light * (1 - 0.25 * (f1 / (f1 + f2)) ** 2)  # rounded: darker towards the edges
    cracks = np.clip((f2 - f1) / 2.5, 0.35, 1.0)
    strata = np.sin(Y * rng.uniform(0.15, 0.5) + 2.5 * fbm(rng, 3.0) + X * rng.uniform(-0.1, 0.1))
    tone = light * cracks * (1 + 0.06 * strata + 0.05 * fbm(rng, 2.6))
    prof = ridge_profile(rng, sky_h, 8, 2.2) if sky_h > 0 else np.full(GEN, -2.0)
    light = np.clip(tone, 0.2, 1.6)[..., None]
    paint(img, below(prof), stone * light)
    if rng.random() < 0.3:  # lichen/moss patches
        moss = np.clip(fbm(rng, 3.0) - 1.0, 0, 1)[..., None]
        paint(img, moss * 0.7, jitter(rng, (0.35, 0.42, 0.18), 0.1) * light)
    return img


def scene_night(rng):
    twilight = rng.random() < 0.35
    top = jitter(rng, (0.01, 0.02, 0.07), 0.15)
    hor = jitter(rng, (0.22, 0.14, 0.30) if twilight else (0.05, 0.08, 0.18), 0.15)
    h = GEN * rng.uniform(0.55, 0.85)
    img = np.broadcast_to(vgrad(top, hor, 0, h, 1.5), (GEN, GEN, 3)).copy()
    band = np.clip(fbm(rng, 2.8), 0, None)[..., None]  # faint milky-way / thin clouds
    img += 0.05 * band * np.asarray([0.6, 0.7, 1.0])
    stars = (rng.random((GEN, GEN)) < rng.uniform(0.002, 0.008)) * (h > Y)
    img += stars[..., None] * rng.uniform(0.3, 1.0, (GEN, GEN, 1)) * np.asarray([1.0, 1.0, 0.95])
    if rng.random() < 0.5:  # moon
        mx, my, r = rng.uniform(15, GEN - 15), rng.uniform(10, h * 0.6), rng.uniform(4, 9)
        d = np.hypot(X - mx, Y - my)
        img += (0.25 * np.exp(-((d / (3 * r)) ** 2)))[..., None] * np.asarray([0.7, 0.75, 0.85])
        paint(img, np.clip(r - d + 0.5, 0, 1)[..., None], jitter(rng, (0.95, 0.93, 0.82), 0.03)
              * (1 - 0.12 * np.clip(fbm(rng, 2.0), 0, None))[..., None])
    for i in range(int(rng.integers(1, 3))):  # dark hill silhouettes
        prof = ridge_profile(rng, h + i * 10, 4 + 3 * i, 2.4)
        paint(img, below(prof), hor * (0.35 - 0.12 * i) + 0.01)
    if rng.random() < 0.4:  # tree silhouettes
        xs = rng.uniform(0, GEN, int(rng.integers(3, 15)))
        tops = h - rng.uniform(5, 25, xs.size)
        prof = np.min(tops[:, None] + 2.5 * np.abs(X - xs[:, None]), axis=0)
        paint(img, below(prof), np.asarray([0.01, 0.015, 0.02]))
    return img


FAMILIES: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "sky": scene_sky, "sea": scene_sea, "forest": scene_forest, "desert": scene_desert,
    "snow": scene_snow, "meadow": scene_meadow, "rock": scene_rock, "night": scene_night,
}


def render(family: str, seed: int) -> np.ndarray:
    """One background: ``(GEN // 2, GEN // 2, 3)`` uint8, a pure function of (family, seed)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, list(FAMILIES).index(family)]))
    img = np.clip(FAMILIES[family](rng), 0.0, 1.0)
    small = img.reshape(GEN // 2, 2, GEN // 2, 2, 3).mean(axis=(1, 3))  # 2×2 box downsample
    return np.rint(small * 255.0).astype(np.uint8)
