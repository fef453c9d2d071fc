"""Detector state as struct-of-arrays: one row per household (or device), one array per field.

Each detector module declares the fields it needs (`Field`); the engine puts them together in
a `Table`, so that one tick evaluates every household with a few numpy operations over
contiguous arrays. A row can be packed into bytes (a numpy record) and back: that is how state
is stored in PostgreSQL (`anbu/storage/detectors.py`) and how the evaluation harness forks one
household's state at the moment of an injected incident.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

NAN = math.nan


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    dtype: str
    shape: tuple[int, ...] = ()
    fill: float = 0.0


class Table:
    """Rows of fixed-size state; arrays grow by doubling, rows are never moved."""

    def __init__(self, fields: Iterable[Field], capacity: int = 16) -> None:
        self.fields: tuple[Field, ...] = tuple(fields)
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"state fields declared twice: {dup}")
        self.n = 0
        self.cap = max(1, capacity)
        self.a: dict[str, NDArray[Any]] = {}
        for f in self.fields:
            self.a[f.name] = np.full((self.cap, *f.shape), f.fill, dtype=f.dtype)
        self.record = np.dtype([(f.name, f.dtype, f.shape) for f in self.fields])

    def __getitem__(self, name: str) -> NDArray[Any]:
        return self.a[name]

    def add(self, count: int = 1) -> int:
        """Append `count` rows with their default values; returns the first new row index."""
        if self.n + count > self.cap:
            new_cap = max(self.cap * 2, self.n + count)
            for f in self.fields:
                grown = np.full((new_cap, *f.shape), f.fill, dtype=f.dtype)
                grown[: self.n] = self.a[f.name][: self.n]
                self.a[f.name] = grown
            self.cap = new_cap
        first = self.n
        self.n += count
        return first

    def pack(self, rows: Sequence[int] | NDArray[Any]) -> bytes:
        """The given rows as packed numpy records (see `record`)."""
        idx = np.asarray(rows, dtype=np.int64)
        rec = np.zeros(idx.shape[0], dtype=self.record)
        for f in self.fields:
            rec[f.name] = self.a[f.name][idx]
        return rec.tobytes()

    def unpack(self, rows: Sequence[int] | NDArray[Any], blob: bytes) -> None:
        idx = np.asarray(rows, dtype=np.int64)
        rec = np.frombuffer(blob, dtype=self.record)
        if rec.shape[0] != idx.shape[0]:
            raise ValueError(f"state blob holds {rec.shape[0]} rows, expected {idx.shape[0]}")
        for f in self.fields:
            self.a[f.name][idx] = rec[f.name]

    def unpack_from(self, rows: Sequence[int] | NDArray[Any], blob: bytes,
                    record: np.dtype) -> list[str]:
        """Rows packed with an older layout `record`, adopted field by field: a field with the
        same name and shape is copied (cast to this layout's dtype), any other keeps its
        default. Returns the names of this layout's fields that kept their default."""
        idx = np.asarray(rows, dtype=np.int64)
        rec = np.frombuffer(blob, dtype=record)
        if rec.shape[0] != idx.shape[0]:
            raise ValueError(f"state blob holds {rec.shape[0]} rows, expected {idx.shape[0]}")
        old: dict[str, Any] = dict(record.fields or {})
        missing = []
        for f in self.fields:
            src = old.get(f.name)
            shape = () if src is None or src[0].subdtype is None else src[0].subdtype[1]
            if src is None or shape != f.shape:
                self.a[f.name][idx] = f.fill
                missing.append(f.name)
                continue
            self.a[f.name][idx] = rec[f.name].astype(f.dtype)
        return missing

    def copy_row(self, src: Table, i: int, j: int) -> None:
        """Row `i` of `src` (a table with the same fields) into row `j` of this one."""
        for f in self.fields:
            self.a[f.name][j] = src.a[f.name][i]

    @property
    def row_bytes(self) -> int:
        return int(self.record.itemsize)


#: device times are float32 seconds since this moment (2024-01-01 UTC): 16-32 s resolution is
#: plenty for device decisions (hours), and it halves the size of the device rows
REL_BASE = 1_704_067_200.0


def rel(t: float) -> float:
    return t - REL_BASE


def unrel(x: float) -> float:
    return float(x) + REL_BASE
