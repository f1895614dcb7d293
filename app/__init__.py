"""Image and video enhancement service."""

__version__ = "0.1.0"
