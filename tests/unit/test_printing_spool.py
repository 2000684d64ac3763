"""The durable spool on a real folder."""

from __future__ import annotations

from pathlib import Path

from printing.spool import Spool


def test_a_job_reads_back_byte_for_byte_from_a_new_spool_on_the_same_folder(tmp_path: Path) -> None:
    payload = bytes(range(256)) * 10 + b"\n\x1b@"
    job = Spool(tmp_path).add("comprobante", payload, label="Folio 1")
    (again,) = Spool(tmp_path).pending()
    assert again.id == job.id and again.payload == payload and again.label == "Folio 1"


def test_jobs_come_back_oldest_first_even_after_one_in_the_middle_printed(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    a, b, c = (spool.add("ficha", bytes([n])) for n in (1, 2, 3))
    spool.remove(b.id)
    d = spool.add("ficha", b"\x04")
    assert [j.id for j in Spool(tmp_path).pending()] == [a.id, c.id, d.id]


def test_a_failure_keeps_the_job_with_its_last_error_across_a_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    job = spool.add("comprobante", b"x")
    spool.record_failure(job.id, "primero")
    spool.record_failure(job.id, "La impresora no tiene papel.")
    (again,) = Spool(tmp_path).pending()
    assert again.attempts == 2 and again.last_error == "La impresora no tiene papel."
    assert again.payload == b"x"


def test_a_removed_job_is_gone_for_good(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    job = spool.add("comprobante", b"x")
    assert spool.remove(job.id)
    assert not spool.remove(job.id)
    assert Spool(tmp_path).pending() == []


def test_a_write_interrupted_before_its_rename_was_never_queued(tmp_path: Path) -> None:
    Spool(tmp_path).add("comprobante", b"kept")
    (tmp_path / ".tmp-deadbeef-1234").write_bytes(b'{"half": ')
    spool = Spool(tmp_path)
    assert [j.payload for j in spool.pending()] == [b"kept"]
    assert not list(tmp_path.glob(".tmp-*"))


def test_a_damaged_job_is_set_aside_instead_of_printed(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    good = spool.add("comprobante", b"good")
    bad = spool.add("comprobante", b"original bytes")
    (path,) = tmp_path.glob(f"*-{bad.id}.job")
    path.write_bytes(path.read_bytes()[:-3] + b"XYZ")
    assert [j.id for j in spool.pending()] == [good.id]
    assert list(tmp_path.glob("*.corrupt"))
