"""Uploads are stored as Django's FileSystemStorage stores them."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from onewindow.core.storage import UploadStorage

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


@pytest.fixture
def storages(tmp_path: Path) -> tuple[UploadStorage, FileSystemStorage]:
    return UploadStorage(location=tmp_path / "ours"), FileSystemStorage(location=tmp_path / "django")


def _stored(storage: FileSystemStorage, name: str) -> tuple[bytes, int]:
    path = storage.path(name)
    return Path(path).read_bytes(), stat.S_IMODE(os.stat(path).st_mode)


def test_it_is_the_default_storage():
    from django.core.files.storage import storages

    assert (
        type(storages["default"]) is UploadStorage
        and default_storage.location == storages["default"].location
    )


@pytest.mark.parametrize(
    "content",
    [
        lambda: SimpleUploadedFile("营业执照.pdf", PDF, content_type="application/pdf"),
        lambda: ContentFile(PDF * 30, name="big.pdf"),  # several chunks
        lambda: ContentFile(b"", name="empty.pdf"),
        lambda: ContentFile("章程：第一条\n", name="text.txt"),  # text: written in text mode
    ],
)
def test_a_file_is_stored_with_the_name_bytes_and_mode_django_gives_it(storages: Any, content: Any):
    ours, django = storages
    for _ in range(3):  # the second and third clash with the first: alternative names
        a = ours.save(f"cases/2026/11/{content().name}", content())
        b = django.save(f"cases/2026/11/{content().name}", content())
        assert _stored(ours, a) == _stored(django, b)
        assert os.path.dirname(a) == os.path.dirname(b) == "cases/2026/11"
        assert (
            os.path.basename(a).split("_")[0].split(".")[0] == os.path.basename(b).split("_")[0].split(".")[0]
        )
    assert len(ours.listdir("cases/2026/11")[1]) == 3  # nothing overwritten


def test_a_new_folder_gets_the_configured_modes(tmp_path: Path):
    ours = UploadStorage(location=tmp_path, file_permissions_mode=0o640, directory_permissions_mode=0o750)
    name = ours.save("cases/2027/01/a.pdf", ContentFile(PDF))
    assert stat.S_IMODE(os.stat(ours.path(name)).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(tmp_path / "cases" / "2027").st_mode) == 0o750
    assert stat.S_IMODE(os.stat(tmp_path / "cases" / "2027" / "01").st_mode) == 0o750


def test_a_name_taken_between_choosing_and_creating_gets_another(storages: Any, monkeypatch: Any):
    ours, _django = storages
    first = ours.save("cases/x/a.pdf", ContentFile(b"first"))
    calls = []
    real = ours.get_available_name

    def clashing(name: str, max_length: int | None = None) -> str:
        calls.append(name)
        return name if len(calls) == 1 else real(name, max_length)

    monkeypatch.setattr(ours, "get_available_name", clashing)
    second = ours.save("cases/x/a.pdf", ContentFile(b"second"))
    assert second != first and len(calls) == 2
    assert (
        Path(ours.path(first)).read_bytes() == b"first" and Path(ours.path(second)).read_bytes() == b"second"
    )


def test_a_failed_write_leaves_no_file(storages: Any):
    ours, _django = storages

    class Broken(ContentFile):
        def chunks(self, chunk_size: int | None = None) -> Any:
            yield b"half"
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        ours.save("cases/x/broken.pdf", Broken(b"", name="broken.pdf"))
    assert ours.listdir("cases/x")[1] == []


def test_a_temporary_upload_is_moved_as_django_moves_it(storages: Any):
    ours, _django = storages
    upload = TemporaryUploadedFile("big.pdf", "application/pdf", len(PDF), None)
    upload.write(PDF)
    upload.flush()
    name = ours.save("cases/x/big.pdf", upload)
    upload.close()  # as Django's upload handler does: the temporary file was moved
    assert Path(ours.path(name)).read_bytes() == PDF


def test_overwriting_storage_takes_djangos_path(tmp_path: Path):
    ours = UploadStorage(location=tmp_path, allow_overwrite=True)
    first = ours.save("cases/x/same.pdf", ContentFile(b"one"))
    second = ours.save("cases/x/same.pdf", ContentFile(b"two"))
    assert first == second and Path(ours.path(second)).read_bytes() == b"two"


def test_a_file_in_the_way_of_the_folder_gives_djangos_error(storages: Any):
    ours, django = storages
    for storage in (ours, django):
        storage.save("cases/blocker", ContentFile(b"a file where a folder should be"))
        with pytest.raises(FileExistsError, match="exists and is not a directory"):
            storage.save("cases/blocker/a.pdf", ContentFile(b"x"))
