"""Weightless motion deblurring: blind linear-kernel estimate (app.quality.blur) + Richardson-Lucy.

The kernel is a point-symmetric anti-aliased line (length, angle). Richardson-Lucy runs on each colour plane with
reflect padding of twice the kernel size, which tapers the edges so the boundary of the deconvolution does not ring
back into the picture.

Richardson-Lucy is written here on OpenCV's `filter2D` rather than taken from scikit-image: the two convolutions
per iteration are the whole algorithm, OpenCV is already a runtime dependency, and scikit-image would add SciPy and
four more packages to every install for these few lines. `tests/inference/test_deblur.py` checks it against
scikit-image's `richardson_lucy` on real photos.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from app.quality.blur import MotionBlur, estimate_motion_blur

ITERATIONS = 30
SUBPIXEL = 16  # cv2.line's fixed-point shift: 4 bits


def motion_psf(length: float, angle: float) -> np.ndarray:
    """Normalised, point-symmetric line kernel of `length` pixels at `angle` degrees (counter-clockwise)."""
    length = max(1.0, float(length))
    size = math.ceil(length) + 2
    size += 1 - size % 2  # odd, so the kernel has a centre pixel
    kernel = np.zeros((size, size), np.float32)
    centre = (size - 1) / 2
    dx = math.cos(math.radians(angle)) * (length - 1) / 2
    dy = -math.sin(math.radians(angle)) * (length - 1) / 2
    start = (round((centre - dx) * SUBPIXEL), round((centre - dy) * SUBPIXEL))
    end = (round((centre + dx) * SUBPIXEL), round((centre + dy) * SUBPIXEL))
    cv2.line(kernel, start, end, 1.0, 1, cv2.LINE_AA, 4)
    kernel = kernel + kernel[::-1, ::-1]
    return np.asarray(kernel / kernel.sum(), np.float32)


def richardson_lucy(image: np.ndarray, psf: np.ndarray, iterations: int = ITERATIONS) -> np.ndarray:
    """Richardson-Lucy deconvolution of one float32 plane, started from a flat 0.5 as scikit-image does.

    OpenCV's `filter2D` correlates, so the blur is a correlation with the flipped PSF and the correction step a
    correlation with the PSF itself. Borders reflect (scikit-image pads with zeros; the caller pads anyway).
    """
    psf = np.ascontiguousarray(psf, np.float32)
    flipped = np.ascontiguousarray(psf[::-1, ::-1])
    estimate = np.full(image.shape, 0.5, np.float32)
    for _ in range(iterations):
        blurred = cv2.filter2D(estimate, -1, flipped, borderType=cv2.BORDER_REFLECT) + np.float32(1e-12)
        estimate *= cv2.filter2D(image / blurred, -1, psf, borderType=cv2.BORDER_REFLECT)
    return estimate


def deconvolve(image: np.ndarray, psf: np.ndarray, iterations: int = ITERATIONS) -> np.ndarray:
    """Richardson-Lucy on an H x W x C float image in 0..1."""
    pad = 2 * max(psf.shape)
    out = np.empty_like(image, dtype=np.float32)
    for c in range(image.shape[2]):
        plane = cv2.copyMakeBorder(image[..., c], pad, pad, pad, pad, cv2.BORDER_REFLECT)
        restored = richardson_lucy(np.clip(plane, 1e-4, 1.0), psf, iterations)
        out[..., c] = restored[pad:-pad, pad:-pad]
    return np.clip(out, 0.0, 1.0)


def classical_deblur(image: np.ndarray, blur: MotionBlur | None = None) -> tuple[np.ndarray, MotionBlur]:
    """Deblur an H x W x C float image in 0..1; returns the result and the kernel estimate it used."""
    blur = blur or estimate_motion_blur(image)
    return deconvolve(image.astype(np.float32), motion_psf(blur.length, blur.angle)), blur
