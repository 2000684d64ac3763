"""A durable print queue: one file per job in a folder, like a print spooler.

Each job is written to a temporary file, flushed to disk (fsync), then atomically renamed
into place, so after a power cut a job is either wholly there or not there at all. A job file
is removed only after its bytes reached the printer; a failed attempt rewrites the job (same
way) with its last error and attempt count. Jobs come back oldest first.

File layout: ``<sequence>-<id>.job``, a JSON header line then the raw ESC/POS bytes. The
header carries a SHA-256 of the bytes; a file that does not match is set aside as
``.corrupt`` rather than printed as garbage.

One spool folder belongs to one process (one terminal); within it, the spool is thread-safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

_SUFFIX = ".job"
_TEMP_PREFIX = ".tmp-"


@dataclass(frozen=True, slots=True)
class SpoolJob:
    """One queued document. ``payload`` is the complete ESC/POS job."""

    id: str
    sequence: int
    kind: str
    label: str
    created_at: datetime
    payload: bytes
    attempts: int = 0
    last_error: str | None = None
    last_attempt_at: datetime | None = None


class SpoolError(OSError):
    """The queue folder cannot be written; ``str()`` is Spanish."""


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open a folder for fsync.
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Spool:
    """The reprint queue in ``folder`` (created if missing)."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self._lock = threading.RLock()
        try:
            # Receipts name affiliates: the queue is readable by its owner only.
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise SpoolError(f"No se pudo crear la carpeta de la cola de impresión: {exc}") from exc
        self._remove_leftover_temps()

    # -- writing -------------------------------------------------------------------------
    def add(self, kind: str, payload: bytes, *, label: str = "") -> SpoolJob:
        """Queue a job durably and return it."""
        with self._lock:
            sequence = self._next_sequence()
            job = SpoolJob(
                id=uuid.uuid4().hex,
                sequence=sequence,
                kind=kind,
                label=label,
                created_at=datetime.now(UTC),
                payload=payload,
            )
            self._write(job)
            return job

    def record_failure(self, job_id: str, error: str) -> SpoolJob | None:
        """Keep the job queued with its last error; None if it is no longer queued."""
        with self._lock:
            job = self.get(job_id)
            if job is None:
                return None
            updated = replace(
                job,
                attempts=job.attempts + 1,
                last_error=error,
                last_attempt_at=datetime.now(UTC),
            )
            self._write(updated)
            return updated

    def remove(self, job_id: str) -> bool:
        """Drop a job (it printed). True if it was there."""
        with self._lock:
            path = self._path_of(job_id)
            if path is None:
                return False
            path.unlink()
            _fsync_dir(self.folder)
            return True

    # -- reading -------------------------------------------------------------------------
    def pending(self) -> list[SpoolJob]:
        """Every queued job, oldest first."""
        with self._lock:
            jobs = []
            for path in self._job_paths():
                job = self._read(path)
                if job is not None:
                    jobs.append(job)
            return jobs

    def get(self, job_id: str) -> SpoolJob | None:
        with self._lock:
            path = self._path_of(job_id)
            return self._read(path) if path else None

    def __len__(self) -> int:
        return len(self._job_paths())

    # -- internals -----------------------------------------------------------------------
    def _job_paths(self) -> list[Path]:
        paths = [p for p in self.folder.iterdir() if p.suffix == _SUFFIX and p.is_file()]
        return sorted(paths, key=lambda p: (int(p.name.split("-", 1)[0]), p.name))

    def _path_of(self, job_id: str) -> Path | None:
        for path in self.folder.glob(f"*-{job_id}{_SUFFIX}"):
            return path
        return None

    def _next_sequence(self) -> int:
        paths = self._job_paths()
        return int(paths[-1].name.split("-", 1)[0]) + 1 if paths else 1

    def _write(self, job: SpoolJob) -> None:
        header = {
            "id": job.id,
            "sequence": job.sequence,
            "kind": job.kind,
            "label": job.label,
            "created_at": _iso(job.created_at),
            "attempts": job.attempts,
            "last_error": job.last_error,
            "last_attempt_at": _iso(job.last_attempt_at),
            "size": len(job.payload),
            "sha256": hashlib.sha256(job.payload).hexdigest(),
        }
        final = self.folder / f"{job.sequence:012d}-{job.id}{_SUFFIX}"
        temp = self.folder / f"{_TEMP_PREFIX}{job.id}-{uuid.uuid4().hex[:8]}"
        try:
            with open(temp, "wb") as handle:
                handle.write(json.dumps(header, ensure_ascii=True).encode("ascii") + b"\n")
                handle.write(job.payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, final)
            _fsync_dir(self.folder)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise SpoolError(
                f"No se pudo guardar el trabajo en la cola de impresión: {exc}"
            ) from exc

    def _read(self, path: Path) -> SpoolJob | None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            head, payload = raw.split(b"\n", 1)
            header = json.loads(head)
            if hashlib.sha256(payload).hexdigest() != header["sha256"]:
                raise ValueError("checksum")
            created = _from_iso(header["created_at"])
            assert created is not None
            return SpoolJob(
                id=header["id"],
                sequence=int(header["sequence"]),
                kind=header["kind"],
                label=header["label"],
                created_at=created,
                payload=payload,
                attempts=int(header["attempts"]),
                last_error=header["last_error"],
                last_attempt_at=_from_iso(header["last_attempt_at"]),
            )
        except (ValueError, KeyError, TypeError, AssertionError):
            # Printing a damaged job would spill garbage on paper; keep it for a person.
            path.rename(path.with_suffix(".corrupt"))
            return None

    def _remove_leftover_temps(self) -> None:
        # A temp file is a write that never completed its rename: it was never queued.
        for path in self.folder.glob(f"{_TEMP_PREFIX}*"):
            path.unlink(missing_ok=True)
