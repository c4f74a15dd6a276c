"""A stand-in for object storage in tests: a folder reached only through the Storage API.

S3 (django-storages) and other object stores have no local paths: ``path()`` raises
``NotImplementedError``, which is what makes the pipeline copy files to and from the storage
instead of working in its folder. This storage keeps its objects in a FileSystemStorage on a
folder of its own (``location``) and exposes nothing but the Storage API, so code that opened a
storage path directly would fail here as it would against S3."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import FileSystemStorage, Storage


class RemoteStorage(Storage):
    def __init__(self, location: str) -> None:
        self._objects = FileSystemStorage(location=location, allow_overwrite=True)

    def _open(self, name: str, mode: str = "rb") -> Any:
        return self._objects.open(name, mode)

    def _save(self, name: str, content: Any) -> str:
        return self._objects.save(name, content)

    def delete(self, name: str) -> None:
        self._objects.delete(name)

    def exists(self, name: str) -> bool:
        return self._objects.exists(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self._objects.listdir(path)

    def size(self, name: str) -> int:
        return self._objects.size(name)

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name  # object stores overwrite (S3Storage's file_overwrite=True default)
