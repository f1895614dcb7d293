"""A motion-blur kernel built independently of the service's own kernel code."""

from __future__ import annotations

import math

import numpy as np


def line_psf(length: int, angle: float) -> np.ndarray:
    """Built independently of the service's kernel code: points along the segment, bilinearly splatted, then made
    point-symmetric and normalised, as the issue prescribes."""
    size = length + 4
    kernel = np.zeros((size, size), np.float64)
    centre = (size - 1) / 2
    for t in np.linspace(-(length - 1) / 2, (length - 1) / 2, 8 * length):
        x, y = centre + t * math.cos(math.radians(angle)), centre - t * math.sin(math.radians(angle))
        x0, y0 = math.floor(x), math.floor(y)
        fx, fy = x - x0, y - y0
        kernel[y0, x0] += (1 - fx) * (1 - fy)
        kernel[y0, x0 + 1] += fx * (1 - fy)
        kernel[y0 + 1, x0] += (1 - fx) * fy
        kernel[y0 + 1, x0 + 1] += fx * fy
    kernel = kernel + kernel[::-1, ::-1]
    return (kernel / kernel.sum()).astype(np.float32)
