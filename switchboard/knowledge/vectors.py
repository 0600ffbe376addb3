"""Retrieval by meaning: the passages' embeddings, ranked by cosine similarity to the question's."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

# float32, little-endian, one row per passage: how the vectors are kept in Redis on every host.
_STORED = np.dtype("<f4")


def pack(vectors: Sequence[Sequence[float]]) -> bytes:
    return np.asarray(vectors, dtype=_STORED).tobytes()


def unpack(data: bytes, rows: int) -> npt.NDArray[np.float32]:
    """The rows `pack` made; ValueError when the bytes are not `rows` rows of one width."""
    flat = np.frombuffer(data, dtype=_STORED)
    if rows <= 0 or flat.size % rows:
        raise ValueError(f"{flat.size} numbers are not {rows} vectors of one width")
    return flat.reshape(rows, flat.size // rows).astype(np.float32)


class VectorIndex:
    """Cosine similarity of a question's embedding to each passage's."""

    def __init__(self, matrix: npt.NDArray[np.float32]) -> None:
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self._unit = matrix / np.where(norms == 0, 1, norms)  # a zero row stays zero: similar to nothing

    @property
    def width(self) -> int:
        return int(self._unit.shape[1])

    def top(self, query: Sequence[float], k: int) -> list[tuple[int, float]]:
        """(passage number, similarity) of the `k` most similar passages, best first."""
        vector = np.asarray(query, dtype=np.float32)
        if vector.shape != (self.width,):
            raise ValueError(f"a question's embedding of width {vector.size}, the passages' are {self.width}")
        norm = float(np.linalg.norm(vector))
        similarity = self._unit @ (vector / norm if norm else vector)
        ranked = sorted(range(len(similarity)), key=lambda i: (-float(similarity[i]), i))
        return [(i, float(similarity[i])) for i in ranked[:k]]
