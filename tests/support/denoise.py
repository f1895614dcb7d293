"""Real photos with known Gaussian noise, for the denoise tests and the FFDNet golden fixture."""

from __future__ import annotations

from typing import Any

import numpy as np

from tests.support.images import skimage_rgb


def noisy(photo: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """uint8 photo + Gaussian noise of `sigma` (0..255 scale), rounded back to uint8 as a camera would store it."""
    noise = np.random.default_rng(seed).normal(0.0, sigma, photo.shape)
    return np.clip(photo.astype(np.float64) + noise, 0, 255).round().astype(np.uint8)


def golden_cases() -> dict[str, tuple[np.ndarray, list[float]]]:
    """Two crops of real photos with odd sizes (the network pads to even), noisy at sigma 25, run at 25 and 15."""
    astronaut = skimage_rgb("astronaut")[60:157, 180:281]  # 97 x 101: the face
    coffee = skimage_rgb("coffee")[100:180, 200:290]  # 80 x 90
    return {
        "astronaut": (noisy(astronaut, 25, seed=1), [25.0, 15.0]),
        "coffee": (noisy(coffee, 25, seed=2), [25.0]),
    }


def golden_inputs(path: str) -> None:
    arrays: dict[str, np.ndarray] = {}
    for name, (image, sigmas) in golden_cases().items():
        arrays[f"{name}/noisy"] = image
        arrays[f"{name}/sigmas"] = np.asarray(sigmas, np.float64)
    save: Any = np.savez  # numpy's stubs read the names as its own keyword arguments
    save(path, **arrays)
