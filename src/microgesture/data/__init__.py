"""Datasets: the on-disk format, importers, the checker, the synthetic benchmark and input transforms."""
