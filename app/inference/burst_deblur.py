"""Multi-frame deblur: align a frame's neighbours to it and fuse them with Fourier Burst Accumulation.

Delbracio and Sapiro, "Burst Deblurring: Removing Camera Shake Through Fourier Burst Accumulation" (CVPR 2015):
hand shake blurs each frame along a different random path, so at any spatial frequency some frame of a burst has
kept most of its energy. Each aligned frame's Fourier transform is weighted per frequency by
w_i = |F_i|^p / sum_j |F_j|^p (p = 11; the magnitudes smoothed by a Gaussian, so the weights do not follow noise),
and the weighted sum is transformed back. A frame that is already the sharpest keeps its own high frequencies;
identical frames give the frame back.

Alignment is OpenCV's DIS optical flow on a downscaled, lightly smoothed luma (bounded cost), applied to the
full-size neighbour. The flow can fail (a cut, an occlusion, a face turning): a neighbour whose aligned, low-passed
luma still differs from the target's by more than `MAX_ALIGN_ERROR` is dropped, and where a kept neighbour
differs locally (moving parts the flow missed) the target's own pixels stand in for it, so nothing ghosts.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from app.quality.blur import to_gray

POWER = 11.0  # the paper's p: ~11 keeps the sharpest frame's frequency almost alone without a hard switch
FLOW_SIDE = 320  # flow runs on a luma downscaled to this longest side
CHECK_SIGMA = 0.02  # low-pass for the alignment check, in fractions of the analysis width: blur differences vanish
MAX_ALIGN_ERROR = 0.05  # mean low-passed luma difference (0..1) above which a neighbour is dropped
PIXEL_TOLERANCE = 0.06  # local low-passed difference above which the target's pixels replace the neighbour's
WEIGHT_SIGMA = 1 / 50  # Gaussian smoothing of |F| in the paper: min(h, w) / 50 frequency bins
SHARPER = 1.1  # fuse only when a kept neighbour's Laplacian variance beats the target's by this factor


@dataclass(frozen=True)
class BurstReport:
    used: int  # neighbours fused
    dropped: int  # neighbours rejected by the alignment check
    errors: tuple[float, ...]  # each neighbour's aligned low-pass error, in input order
    fused: bool  # False: no kept neighbour was sharper than the target, which came back as it was


def _small_luma(image: np.ndarray, scale: float) -> np.ndarray:
    gray = to_gray(image)
    h, w = gray.shape
    if scale < 1.0:
        gray = cv2.resize(gray, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
    return np.asarray(gray, np.float32)


def _lowpass(gray: np.ndarray) -> np.ndarray:
    sigma = max(1.5, CHECK_SIGMA * max(gray.shape))
    return cv2.GaussianBlur(gray, (0, 0), sigma)


def align(target: np.ndarray, neighbour: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Warp `neighbour` onto `target`: (aligned H x W x C, per-pixel mismatch at full size, mean mismatch)."""
    h, w = target.shape[:2]
    scale = min(1.0, FLOW_SIDE / max(h, w))
    ref, mov = _small_luma(target, scale), _small_luma(neighbour, scale)
    # A light blur on both sides: DIS matches a blurred frame to a sharp one better when neither has fine texture.
    as_u8 = [np.clip(cv2.GaussianBlur(g, (0, 0), 1.0) * 255 + 0.5, 0, 255).astype(np.uint8) for g in (ref, mov)]
    dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    flow = np.asarray(dis.calc(as_u8[0], as_u8[1], None))  # type: ignore[call-overload]  # ref(x) ~ mov(x + flow(x))
    sh, sw = ref.shape
    small_x, small_y = np.meshgrid(np.arange(sw, dtype=np.float32), np.arange(sh, dtype=np.float32))
    warped_small = cv2.remap(mov, small_x + flow[..., 0], small_y + flow[..., 1], cv2.INTER_LINEAR, None,
                             cv2.BORDER_REPLICATE)  # fmt: skip
    mismatch_small = np.abs(_lowpass(warped_small) - _lowpass(ref))
    error = float(mismatch_small.mean())
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x = grid_x + cv2.resize(flow[..., 0], (w, h), interpolation=cv2.INTER_LINEAR) * np.float32(w / sw)
    map_y = grid_y + cv2.resize(flow[..., 1], (w, h), interpolation=cv2.INTER_LINEAR) * np.float32(h / sh)
    aligned = cv2.remap(np.ascontiguousarray(neighbour, np.float32), map_x, map_y, cv2.INTER_LINEAR, None,
                        cv2.BORDER_REPLICATE)  # fmt: skip
    if aligned.ndim == 2:
        aligned = aligned[..., None]
    mismatch = cv2.resize(mismatch_small, (w, h), interpolation=cv2.INTER_LINEAR)
    return aligned, mismatch, error


def _frequency_weights(lumas: list[np.ndarray]) -> np.ndarray:
    """n x H x (W//2+1) FBA weights (they sum to one over the frames), from each luma's smoothed magnitude."""
    h, w = lumas[0].shape
    sigma = max(1.0, WEIGHT_SIGMA * min(h, w))
    logs = []
    for luma in lumas:
        magnitude = np.fft.fftshift(np.abs(np.fft.fft2(luma - luma.mean())))
        smooth = cv2.GaussianBlur(magnitude.astype(np.float32), (0, 0), sigma)
        logs.append(POWER * np.log(np.fft.ifftshift(smooth)[:, : w // 2 + 1] + 1e-6))
    stacked = np.stack(logs)
    stacked -= stacked.max(axis=0, keepdims=True)  # |F|^p in the log domain: p = 11 overflows float32 otherwise
    weights = np.exp(stacked)
    return np.asarray(weights / weights.sum(axis=0, keepdims=True), np.float32)


def sharpness(image: np.ndarray) -> float:
    """Laplacian variance of the lightly smoothed luma (the smoothing keeps sensor noise from counting as detail)."""
    gray = cv2.GaussianBlur(to_gray(image), (0, 0), 0.7)
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


def burst_deblur_report(target: np.ndarray, neighbours: list[np.ndarray]) -> tuple[np.ndarray, BurstReport]:
    """Fuse `target` (H x W x C float32 in 0..1) with its aligned `neighbours` (same size); see the module doc.

    A target at least as sharp as every kept neighbour comes back unchanged: fusing blurrier frames into it only
    costs PSNR (on the carphone benchmark, sharp frames fell from 48.1 to 41.2 dB when fused anyway)."""
    target = np.asarray(target, np.float32)
    squeeze = target.ndim == 2
    if squeeze:
        target = target[..., None]
    frames, errors = [target], []
    for neighbour in neighbours:
        aligned, mismatch, error = align(target, np.asarray(neighbour, np.float32))
        errors.append(error)
        if error > MAX_ALIGN_ERROR:
            continue
        # soft mask: 1 where the neighbour agrees with the target at low frequencies, 0 where the flow missed
        keep = np.clip(2.0 - mismatch / PIXEL_TOLERANCE, 0.0, 1.0)[..., None]
        frames.append(aligned * keep + target * (1.0 - keep))
    own = sharpness(target)
    fused = any(sharpness(f) > SHARPER * own for f in frames[1:])
    report = BurstReport(len(frames) - 1, len(neighbours) - (len(frames) - 1), tuple(errors), fused)
    if not fused:
        return (target[..., 0] if squeeze else target).copy(), report
    h, w = target.shape[:2]
    weights = _frequency_weights([to_gray(f) if f.shape[2] >= 3 else f[..., 0] for f in frames])
    out = np.empty_like(target)
    for c in range(target.shape[2]):
        spectrum = sum(weights[i] * np.fft.rfft2(frames[i][..., c]) for i in range(len(frames)))
        out[..., c] = np.fft.irfft2(spectrum, s=(h, w))
    out = np.clip(out, 0.0, 1.0)
    return (out[..., 0] if squeeze else out), report


def burst_deblur(target: np.ndarray, neighbours: list[np.ndarray]) -> np.ndarray:
    """`target` deblurred with the help of its neighbouring frames (float32 RGB in 0..1 in and out)."""
    return burst_deblur_report(target, neighbours)[0]
