"""A folder of .npz files: where the boilerplate learner parks line keys on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np


class NpzSpill:
    """``core.chrome.Spill`` on disk: one ``lines-NNNNNNN.npz`` per batch, read back in order
    (``allow_pickle=False``: nothing in the folder can run code)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._paths: list[Path] = []

    def put(self, arrays: dict[str, np.ndarray]) -> None:
        path = self.folder / f"lines-{len(self._paths):07d}.npz"
        np.savez(path, **arrays)
        self._paths.append(path)

    def items(self) -> Iterator[dict[str, np.ndarray]]:
        for path in self._paths:
            with np.load(path, allow_pickle=False) as data:
                yield {name: data[name] for name in data.files}
