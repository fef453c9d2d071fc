"""Recordings and labels on disk (docs/recording.md is the format's reference).

A recording is JSON Lines, gzip-compressed when the name ends in `.gz`: a header line
`{"anbu_recording": 1, "households": [...], "source": ..., "seed": ...}`, then one line per
message in publish-time order: `{"t": <epoch s>, "topic": "anbu/v1/...", "payload": {...}}`
with an optional `"cause"` marker ("person" | "background" | "fault") that is never published.
Gzip output is written with a zero mtime and no file name, so the same messages give the same
bytes. Labels are JSON Lines of `core.Label.to_json()`.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from simulators.core import CAUSE_BY_NAME, CAUSE_NAMES, Cause, Label, Message, parse_time

FORMAT_VERSION = 1
_CAUSE_B = {k: v.encode() for k, v in CAUSE_NAMES.items()}


@contextmanager
def _open(path: Path, mode: str) -> Iterator[IO[bytes]]:
    if path.suffix == ".gz":
        if mode == "wb":
            raw = path.open("wb")
            try:  # mtime 0 and no name in the header: same content, same bytes
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                    yield gz  # type: ignore[misc]
            finally:
                raw.close()
        else:
            with gzip.open(path, "rb") as gz:
                yield gz  # type: ignore[misc]
    else:
        with path.open(mode) as f:
            yield f


def lines(batch: list[Message], markers: bool = True) -> bytes:
    """The recording lines of a batch of messages (times serialised by one orjson call)."""
    if not batch:
        return b""
    ts = orjson.dumps(np.array([m.t for m in batch]), option=orjson.OPT_SERIALIZE_NUMPY)
    out = []
    for t, m in zip(ts[1:-1].split(b","), batch, strict=True):
        cause = _CAUSE_B.get(m.cause) if markers else None
        tail = b',"cause":"%b"}\n' % cause if cause else b"}\n"
        out.append(b'{"t":%b,"topic":"%b","payload":%b%b' % (t, m.topic.encode(), m.payload,
                                                            tail))
    return b"".join(out)


class RecordingWriter:
    """Writes a recording incrementally: the header first, then batches of messages."""

    def __init__(self, path: Path, header: dict[str, Any], markers: bool = True) -> None:
        self.path, self.markers, self.count = path, markers, 0
        self._cm = _open(path, "wb")
        self._f = self._cm.__enter__()
        head = dict(header)
        head["anbu_recording"] = FORMAT_VERSION
        self._f.write(orjson.dumps(head) + b"\n")

    def write(self, batch: list[Message]) -> None:
        self._f.write(lines(batch, self.markers))
        self.count += len(batch)

    def close(self) -> None:
        self._cm.__exit__(None, None, None)

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_recording(path: Path, header: dict[str, Any],
                    batches: Iterable[list[Message]], markers: bool = True) -> int:
    """Write the header and every message; returns the number of messages written."""
    with RecordingWriter(path, header, markers) as w:
        for batch in batches:
            w.write(batch)
    return w.count


@dataclass(slots=True)
class Recording:
    path: Path
    header: dict[str, Any]

    def messages(self) -> Iterator[Message]:
        with _open(self.path, "rb") as f:
            f.readline()
            for raw in f:
                if raw.strip():
                    yield parse_line(raw)


def parse_line(raw: bytes) -> Message:
    doc = orjson.loads(raw)
    return Message(float(doc["t"]), str(doc["topic"]), orjson.dumps(doc["payload"]),
                   CAUSE_BY_NAME.get(doc.get("cause", ""), Cause.UNKNOWN))


def open_recording(path: Path) -> Recording:
    """Read the header (and check it is one); messages stream on demand."""
    with _open(path, "rb") as f:
        first = f.readline()
    try:
        header = orjson.loads(first)
    except orjson.JSONDecodeError:
        raise ValueError(f"{path}: the first line is not JSON") from None
    if not isinstance(header, dict) or header.get("anbu_recording") != FORMAT_VERSION:
        raise ValueError(f"{path}: not an anbu recording (no anbu_recording: 1 header)")
    return Recording(path, header)


def last_time(path: Path) -> float | None:
    """The publish time of the last message (None for an empty recording)."""
    last = None
    for m in open_recording(path).messages():
        last = m.t
    return last


def write_labels(path: Path, labels: Iterable[Label]) -> int:
    n = 0
    with _open(path, "wb") as f:
        for lb in labels:
            f.write(orjson.dumps(lb.to_json()) + b"\n")
            n += 1
    return n


def read_labels(path: Path) -> list[Label]:
    out = []
    with _open(path, "rb") as f:
        for raw in f:
            if not raw.strip():
                continue
            d = orjson.loads(raw)
            out.append(Label(d["household"], d["kind"], parse_time(d["start"]),
                             None if d.get("end") is None else parse_time(d["end"]),
                             d.get("device")))
    return out
