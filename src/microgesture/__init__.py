"""microgesture: a toolkit for micro-gesture recognition (skeleton, heatmap, RGB and derived-video branches, fusion)."""

__version__ = "0.1.0"
