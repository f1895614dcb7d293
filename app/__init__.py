"""Image and video enhancement service."""

import os

# Read once, when PyTorch loads its OpenMP runtime, so it must be set before any module imports torch. Idle OpenMP
# workers then sleep instead of spinning, which stops them fighting the decode, PNG, GIF and H.264 threads that
# share the cores (40-frame carphone job on 2 cores: 1.57x -> 1.38x of N x the per-frame model time; a lone
# model call is no slower). An explicit OMP_WAIT_POLICY in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
