"""Speed of the content hash behind study cache keys and resume checks (``microgesture.fingerprint.file_digest``):
a first read of a file, then the per-process cache hit.

    .venv/bin/python bench/bench_fingerprint.py [--mb 256]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from microgesture.fingerprint import file_digest


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=256)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "store.bin"
        with open(p, "wb") as fh:
            for _ in range(a.mb):
                fh.write(os.urandom(1 << 20))
        t0 = time.perf_counter()
        file_digest(p)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        file_digest(p)
        again = time.perf_counter() - t0
    print(f"{a.mb} MB: first hash {a.mb / first:.0f} MB/s ({first:.2f} s); cached {1e6 * again:.0f} us")


if __name__ == "__main__":
    main()
