"""microgesture: a toolkit for micro-gesture recognition (skeleton, heatmap, RGB and derived-video branches, fusion)."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # ``microgesture.load`` without importing torch at ``import microgesture``
    if name == "load":
        from microgesture.api import load

        return load
    raise AttributeError(f"module 'microgesture' has no attribute {name!r}")
