"""Media storage: inspection photos, their derivatives and rendered documents, on local disk or in S3.

Evidence must never be lost, overwritten or orphaned, so every backend keeps the same promises:

- ``put`` is atomic (a reader sees the whole object or nothing) and refuses to replace an existing object
  unless ``overwrite=True`` is passed. Local: a temporary file in the same directory, fsync, then a hard link
  (no-clobber) or ``os.replace``, then fsync of the directory. S3: one ``PutObject`` with ``If-None-Match: *``,
  or a multipart upload completed with ``If-None-Match: *`` and aborted on any failure.
- Resumable uploads are staged chunk by chunk under an upload id; a chunk is staged whole or not at all, and
  a chunk at the wrong offset is refused with ``OffsetMismatch(expected)`` so the client knows where to resume.
  Local: one file ``<root>/staging/<upload_id>`` appended (and fsynced) under an exclusive ``flock``. S3: one
  object per chunk, ``staging/<upload_id>/<offset:015d>``, written with ``If-None-Match: *`` so two app
  instances racing for the same offset cannot both win.
- The caller may keep what is staged (``Staged``: the size and where each chunk starts, as ``stage_chunk``
  returned it; the uploads row holds it) and hand it back, so S3 need not list the chunks before each append,
  read back or delete. It is a hint that is checked: an append that finds its offset already taken looks the
  staged bytes up and says where to resume, and reading known chunks that are not there falls back to a listing.
- ``keep_staged`` makes the verified staged bytes a finished object with put's promises. Local: a hard link to
  the staged file (its chunks were fsynced as they came), so the original is never copied; a staged file that
  has been kept takes no more bytes.
- Keys come from ids made by the application, never from user input; they are still validated (no ``..``,
  absolute paths, backslashes, empty or dot-prefixed segments, nothing under the reserved ``staging/``
  prefix) so a bug elsewhere can neither escape the media root nor touch temporary or staged files.

The backend is chosen by ``make_store(config)`` from MEDIA_BACKEND (``local`` or ``s3``). Nothing is
created or contacted at import time; the S3 client is built on first use (after gunicorn forks).
"""

from __future__ import annotations

import abc
import contextlib
import errno
import fcntl
import io
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

STAGING = "staging"
MAX_URL_SECONDS = 900  # presigned URLs live at most 15 minutes
FILE_MODE = 0o640
DIR_MODE = 0o750
COPY_BLOCK = 1024 * 1024
MAX_KEY_BYTES = 1024  # the S3 limit
MAX_SEGMENT_BYTES = 200  # leaves room for ".<name>.<uuid>.tmp" within the 255-byte file-name limit
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Data = bytes | bytearray | memoryview | BinaryIO


class ObjectExists(Exception):
    """The key already holds an object and overwrite=True was not given (evidence is never silently replaced)."""

    def __init__(self, key: str):
        super().__init__(f"object already exists: {key}")
        self.key = key


@dataclass(frozen=True)
class Staged:
    """What is staged for an upload: `size` bytes, in chunks starting at `starts` (in order; a backend that
    keeps one file per upload leaves it empty). Returned by `stage_chunk`, kept by the caller, handed back."""

    size: int = 0
    starts: tuple[int, ...] = ()

    def spans(self) -> list[tuple[int, int]]:
        """(start, end) of each chunk."""
        return list(zip(self.starts, (*self.starts[1:], self.size), strict=True))


class OffsetMismatch(Exception):
    """A chunk was sent for an offset other than the bytes staged so far; `expected` is where to resume, and
    `staged` what the backend found staged (None when it did not look)."""

    def __init__(self, expected: int, staged: Staged | None = None):
        super().__init__(f"upload must continue at offset {expected}")
        self.expected = expected
        self.staged = staged


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified_at: datetime  # aware, UTC


# --- validation -----------------------------------------------------------------------------------------


def _check_segment(segment: str, what: str, value: str) -> None:
    if not segment:
        raise ValueError(f"{what} has an empty path segment: {value!r}")
    if segment.startswith("."):  # "." and ".." and the names of temporary files
        raise ValueError(f"{what} has a segment starting with '.': {value!r}")
    if len(segment.encode()) > MAX_SEGMENT_BYTES:
        raise ValueError(f"{what} has a segment longer than {MAX_SEGMENT_BYTES} bytes: {value!r}")


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, not {type(value).__name__}")
    if "\\" in value or _CONTROL.search(value):
        raise ValueError(f"{what} contains a backslash or a control character: {value!r}")
    if value.startswith("/") or re.match(r"[A-Za-z]:", value):
        raise ValueError(f"{what} must be relative: {value!r}")
    if len(value.encode()) > MAX_KEY_BYTES:
        raise ValueError(f"{what} is longer than {MAX_KEY_BYTES} bytes")
    return value


def validate_key(key: str) -> str:
    """Return `key` if it is a safe relative object key, else raise ValueError."""
    _check_text(key, "key")
    if not key:
        raise ValueError("key must not be empty")
    segments = key.split("/")
    for segment in segments:
        _check_segment(segment, "key", key)
    if segments[0] == STAGING:
        raise ValueError(f"keys under {STAGING}/ are reserved for resumable uploads: {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: like a key, but may be empty, end with '/', or end in a partial segment."""
    _check_text(prefix, "prefix")
    if prefix:
        *dirs, last = prefix.split("/")
        for segment in dirs:
            _check_segment(segment, "prefix", prefix)
        if last.startswith("."):
            raise ValueError(f"prefix has a segment starting with '.': {prefix!r}")
    return prefix


def validate_upload_id(upload_id: str) -> str:
    if not isinstance(upload_id, str) or not _UPLOAD_ID.fullmatch(upload_id):
        raise ValueError(f"invalid upload id: {upload_id!r}")
    return upload_id


def _check_offset(offset: int) -> None:
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ValueError(f"offset must be a non-negative integer, not {offset!r}")


# --- reading the caller's data --------------------------------------------------------------------------


def _as_view(data: Any) -> memoryview | None:
    if isinstance(data, bytes | bytearray | memoryview):
        return memoryview(data).cast("B")
    if hasattr(data, "read"):
        return None
    raise TypeError(f"data must be bytes or a binary file object, not {type(data).__name__}")


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    """Read up to `size` bytes, looping over short reads; fewer only at end of stream."""
    parts = []
    remaining = size
    while remaining > 0:
        block = stream.read(remaining)
        if not block:
            break
        if not isinstance(block, bytes | bytearray | memoryview):
            raise TypeError("data.read() must return bytes")
        parts.append(bytes(block))
        remaining -= len(block)
    return b"".join(parts)


def _iter_blocks(data: Any, block: int = COPY_BLOCK) -> Iterator[bytes | memoryview]:
    view = _as_view(data)
    if view is not None:
        for start in range(0, len(view), block):
            yield view[start:start + block]
        return
    while chunk := _read_exactly(data, block):
        yield chunk


def _blocks_of(first: bytes, rest: Any, size: int) -> Iterator[bytes]:
    """`first` then the rest (a memoryview or a stream) cut into blocks of exactly `size` bytes, the last shorter."""
    position = 0

    def read(n: int) -> bytes:
        nonlocal position
        if isinstance(rest, memoryview):
            block = bytes(rest[position:position + n])
            position += len(block)
            return block
        return _read_exactly(rest, n)

    buffer = first
    exhausted = False
    while True:
        while len(buffer) < size and not exhausted:
            more = read(size - len(buffer))
            exhausted = not more
            buffer += more
        if not buffer:
            return
        block, buffer = buffer[:size], buffer[size:]
        yield block
        if exhausted and not buffer:
            return


def _read_all(data: Any) -> bytes:
    """The whole chunk in memory, read before any storage is touched (a failing read stages nothing).
    Chunks are bounded by the request size limit (MAX_CONTENT_LENGTH)."""
    view = _as_view(data)
    return bytes(view) if view is not None else b"".join(bytes(b) for b in _iter_blocks(data))


class _PositionalFile(io.RawIOBase):
    """A read-only view of an open file by pread: its own position, the file object's left alone."""

    def __init__(self, fd: int):
        super().__init__()
        self.fd, self.position = fd, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = os.preadv(self.fd, [buffer], self.position)
        self.position += count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: os.fstat(self.fd).st_size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def tell(self) -> int:
        return self.position


def independent_reader(staged: BinaryIO) -> Data:
    """The whole of `staged` (a file open_staged returned) from its start, as bytes or as a stream, readable
    while another thread reads `staged` itself."""
    if isinstance(staged, io.BytesIO):
        return staged.getvalue()  # the bytes themselves, not a copy
    return reopen(staged)


def reopen(staged: BinaryIO) -> BinaryIO:
    """Another seekable reader of the same bytes with its own position, for another thread (the caller
    keeps `staged` open meanwhile)."""
    if isinstance(staged, io.BytesIO):
        return io.BytesIO(staged.getvalue())
    return io.BufferedReader(_PositionalFile(staged.fileno()), buffer_size=COPY_BLOCK)  # type: ignore[return-value]


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """RFC 6266 header value: an ASCII fallback name plus the exact UTF-8 name (Vietnamese names survive)."""
    name = filename.replace("\\", "_").replace("/", "_")
    name = _CONTROL.sub("", name) or "download"
    fallback = name.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "_")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


# --- the interface --------------------------------------------------------------------------------------


class MediaStore(abc.ABC):
    """Where photos and documents live. See the module docstring for the guarantees."""

    # finished objects
    @abc.abstractmethod
    def put(self, key: str, data: Data, *, content_type: str, overwrite: bool = False) -> None:
        """Store atomically; ObjectExists if the key exists and overwrite is False."""

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A streaming reader (close it, or use it in a `with`); KeyError if missing."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def size(self, key: str) -> int | None: ...

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; no error if it is already gone."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        """Finished objects whose key starts with `prefix`, in key order (never staged chunks or temp files)."""

    @abc.abstractmethod
    def url(self, key: str, *, expires_in: int, filename: str | None = None,
            content_type: str | None = None) -> str | None:
        """A presigned GET URL valid at most 900 s (S3), or None (local: the app streams the file)."""

    # staging for resumable uploads
    @abc.abstractmethod
    def stage_chunk(self, upload_id: str, offset: int, data: Data, *, known: Staged | None = None) -> Staged:
        """Stage a chunk at `offset` (== bytes staged so far, else OffsetMismatch); return what is staged now.
        `known`: what the caller last recorded as staged; a backend may trust it instead of looking when
        `known.size == offset`, and still refuses a chunk whose offset another writer took first."""

    def append(self, upload_id: str, offset: int, data: Data) -> int:
        """Stage a chunk at `offset` (== bytes staged so far, else OffsetMismatch); return the new staged size."""
        return self.stage_chunk(upload_id, offset, data).size

    @abc.abstractmethod
    def staged(self, upload_id: str) -> Staged:
        """What is staged, looked up (not the caller's record)."""

    def staged_size(self, upload_id: str) -> int:
        return self.staged(upload_id).size

    @abc.abstractmethod
    def open_staged(self, upload_id: str, *, known: Staged | None = None, tail: bytes | None = None) -> BinaryIO:
        """All staged bytes as one seekable file positioned at 0; KeyError if nothing is staged. `known` as for
        stage_chunk; `tail`: the bytes of `known`'s last chunk, which the caller has in memory (it staged them,
        or holds them back: last_chunk_from_memory), used instead of reading that chunk back. Without `known`,
        or when its chunks are not all there, the staged bytes are looked up and `tail` is not used."""

    # Looking up what is staged costs no request (local: an fstat), so a caller need not keep a record of it.
    cheap_staged_lookup = False
    # The chunk that completes an upload may be processed from memory without being staged first (the caller
    # stages it only if processing fails). S3: the original's put sends those bytes anyway, so staging them
    # would be a put, a read back and a delete for nothing. Local: no, the staged file becomes the original.
    last_chunk_from_memory = False

    def keep_staged(self, upload_id: str, key: str, *, content_type: str, staged: BinaryIO | None = None) -> None:
        """Store the staged bytes as the finished object `key`, with put's promises (atomic; ObjectExists if
        the key exists). `staged`: the file open_staged returned, if the caller has it open; it is read
        without moving its position, so another thread may read it meanwhile."""
        validate_key(key)
        if staged is not None:
            self.put(key, independent_reader(staged), content_type=content_type)
            return
        with self.open_staged(upload_id) as opened:
            self.put(key, opened, content_type=content_type)

    @abc.abstractmethod
    def discard_staged(self, upload_id: str, *, known: Staged | None = None) -> None:
        """Remove the staged bytes. `known`: what the caller recorded, if it is sure nothing else was staged
        (a backend may then remove just that, without looking)."""

    @abc.abstractmethod
    def list_staged(self) -> Iterator[StoredObject]:
        """One entry per upload in progress: key = upload id, size = staged bytes, modified_at = last chunk."""

    @abc.abstractmethod
    def sweep_incomplete(self, older_than: timedelta) -> int:
        """Remove the leftovers of interrupted puts older than `older_than` (local: temporary files; S3:
        multipart uploads never completed). Return how many were removed. Staged uploads are not touched:
        list_staged/discard_staged decide about those."""


# --- local disk -----------------------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems cannot fsync a directory
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _mtime(stat: os.stat_result) -> datetime:
    return datetime.fromtimestamp(stat.st_mtime, tz=UTC)


class LocalStore(MediaStore):
    """Files under `root`; staged uploads under `root/staging/`. Safe for several processes on one host."""

    cheap_staged_lookup = True

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.staging = self.root / STAGING

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    # paths
    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def _staged_path(self, upload_id: str) -> Path:
        return self.staging / validate_upload_id(upload_id)

    def _ensure_dir(self, directory: Path) -> None:
        """Create `directory` and missing parents (0o750), making each new entry durable."""
        if directory.is_dir():
            return
        if directory != self.root and directory.parent != directory:
            self._ensure_dir(directory.parent)
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            if not directory.is_dir():
                raise
            return
        os.chmod(directory, DIR_MODE)  # exact mode whatever the umask
        _fsync_dir(directory.parent)

    # finished objects
    def put(self, key: str, data: Data, *, content_type: str, overwrite: bool = False) -> None:
        path = self._path(key)
        _as_view(data)  # type check before creating anything
        if not overwrite and path.exists():
            raise ObjectExists(key)
        self._ensure_dir(path.parent)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
        try:
            try:
                os.fchmod(fd, FILE_MODE)
                for block in _iter_blocks(data):
                    view = memoryview(block)
                    while view:
                        view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            if overwrite:
                os.replace(tmp, path)
            else:
                self._link_no_clobber(tmp, path, key)
            _fsync_dir(path.parent)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    @staticmethod
    def _link_no_clobber(tmp: Path, path: Path, key: str) -> None:
        try:
            os.link(tmp, path)  # atomic, and fails if the name exists: two writers cannot both win
        except FileExistsError as exc:
            raise ObjectExists(key) from exc
        except OSError as exc:  # a filesystem without hard links: best effort
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
                raise
            if path.exists():
                raise ObjectExists(key) from exc
            os.replace(tmp, path)

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return open(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise KeyError(key) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int | None:
        path = self._path(key)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return stat.st_size if path.is_file() else None

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError):
            return
        _fsync_dir(path.parent)

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        validate_prefix(prefix)
        directory = prefix.rpartition("/")[0]
        if directory.split("/")[0] == STAGING:
            return iter(())
        start = self.root.joinpath(*directory.split("/")) if directory else self.root
        return (obj for obj in self._walk(start, directory) if obj.key.startswith(prefix))

    def _walk(self, directory: Path, rel: str) -> Iterator[StoredObject]:
        """Depth first, entries sorted with directories as 'name/', which yields keys in lexicographic order."""
        try:
            with os.scandir(directory) as scan:
                entries = [e for e in scan if not e.name.startswith(".")]
        except (FileNotFoundError, NotADirectoryError):
            return
        rows = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if not rel and entry.name == STAGING:
                    continue
                rows.append((entry.name + "/", entry, True))
            elif entry.is_file(follow_symlinks=False):
                rows.append((entry.name, entry, False))
        for _, entry, is_dir in sorted(rows, key=lambda row: row[0]):
            key = f"{rel}/{entry.name}" if rel else entry.name
            if is_dir:
                yield from self._walk(Path(entry.path), key)
                continue
            try:
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # deleted meanwhile
                continue
            yield StoredObject(key=key, size=stat.st_size, modified_at=_mtime(stat))

    def url(self, key: str, *, expires_in: int, filename: str | None = None,
            content_type: str | None = None) -> str | None:
        validate_key(key)
        return None

    # staging
    def stage_chunk(self, upload_id: str, offset: int, data: Data, *, known: Staged | None = None) -> Staged:
        """The staged file's size, read under the lock, is the truth here: `known` is not needed."""
        path = self._staged_path(upload_id)
        _check_offset(offset)
        current = self.staged_size(upload_id)
        if offset != current:  # early answer, before reading the body
            raise OffsetMismatch(current, Staged(current))
        chunk = _read_all(data)
        self._ensure_dir(self.staging)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # another worker may be appending to the same upload
            stat = os.fstat(fd)
            size = stat.st_size
            if offset != size:
                raise OffsetMismatch(size, Staged(size))
            if not chunk:
                return Staged(size)
            if stat.st_nlink > 1:  # kept as a finished object (keep_staged): its bytes never change again
                raise OffsetMismatch(size, Staged(size))
            if size == 0:
                os.fchmod(fd, FILE_MODE)
            try:
                view = memoryview(chunk)
                position = size
                while view:
                    written = os.pwrite(fd, view, position)
                    view, position = view[written:], position + written
                os.fsync(fd)  # durable before the offset is acknowledged
            except BaseException:
                os.ftruncate(fd, size)  # a chunk is all or nothing
                raise
            if size == 0:
                _fsync_dir(self.staging)
            return Staged(size + len(chunk))
        finally:
            os.close(fd)  # releases the lock

    def staged(self, upload_id: str) -> Staged:
        """Under a shared lock, so a chunk being written by another worker is never counted half-way."""
        try:
            fd = os.open(self._staged_path(upload_id), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return Staged()
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            return Staged(os.fstat(fd).st_size)
        finally:
            os.close(fd)

    def open_staged(self, upload_id: str, *, known: Staged | None = None, tail: bytes | None = None) -> BinaryIO:
        path = self._staged_path(upload_id)
        try:
            return open(path, "rb")
        except FileNotFoundError as exc:
            raise KeyError(upload_id) from exc

    def keep_staged(self, upload_id: str, key: str, *, content_type: str, staged: BinaryIO | None = None) -> None:
        """A hard link from `key` to the staged file: no copy, and no second fsync of the bytes (each chunk was
        fsynced before it was acknowledged); only the new directory entry is made durable. The staged file
        takes no more bytes from then on (stage_chunk checks its link count)."""
        source, path = self._staged_path(upload_id), self._path(key)
        if not source.is_file():
            raise KeyError(upload_id)
        if path.exists():
            raise ObjectExists(key)
        self._ensure_dir(path.parent)
        try:
            os.utime(source)  # a fresh mtime: the sweep's grace period counts from now, as for a put
            os.link(source, path)
        except FileExistsError as exc:
            raise ObjectExists(key) from exc
        except OSError as exc:  # a filesystem without hard links: copy
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
                raise
            super().keep_staged(upload_id, key, content_type=content_type, staged=staged)
            return
        _fsync_dir(path.parent)

    def discard_staged(self, upload_id: str, *, known: Staged | None = None) -> None:
        """Unlink the staged file. If it was kept as an object (keep_staged), its pages also leave the page
        cache: its chunks were fsynced, originals are seldom read again, and memory that is freed is what
        the next uploads write into (on this project's VM, writing into never-used memory costs ~3 ms/MiB,
        into freed memory ~0.2; bench/README.md, photos)."""
        path = self._staged_path(upload_id)
        with contextlib.suppress(FileNotFoundError):
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            try:
                if os.fstat(fd).st_nlink > 1 and hasattr(os, "posix_fadvise"):
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
            os.unlink(path)

    def list_staged(self) -> Iterator[StoredObject]:
        try:
            with os.scandir(self.staging) as scan:
                entries = sorted((e for e in scan if _UPLOAD_ID.fullmatch(e.name)), key=lambda e: e.name)
        except FileNotFoundError:
            return
        for entry in entries:
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            yield StoredObject(key=entry.name, size=stat.st_size, modified_at=_mtime(stat))

    def sweep_incomplete(self, older_than: timedelta) -> int:
        """Delete temporary files (`.<name>.<uuid>.tmp`) left by puts that crashed."""
        cutoff = datetime.now(UTC) - older_than
        removed = 0
        if not self.root.is_dir():
            return 0
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if not (name.startswith(".") and name.endswith(".tmp")):
                    continue
                path = Path(folder) / name
                try:
                    if _mtime(path.stat()) < cutoff:
                        path.unlink()
                        removed += 1
                except FileNotFoundError:
                    continue
        return removed


# --- S3 -------------------------------------------------------------------------------------------------


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None) or {}
    return response.get("ResponseMetadata", {}).get("HTTPStatusCode")


_MISSING = {"404", "NoSuchKey", "NotFound"}
_CONFLICT = {"PreconditionFailed", "ConditionalRequestConflict"}
PUT_ID = "put-id"  # metadata naming the put that wrote an object, to recognize our own write after a retry


class S3Store(MediaStore):
    """Objects in one S3 (or S3-compatible) bucket; staged chunks are objects under `staging/`."""

    multipart_threshold = 16 * 1024 * 1024  # larger bodies go up as a multipart upload
    last_chunk_from_memory = True
    part_size = 16 * 1024 * 1024  # S3: at least 5 MiB except the last part

    def __init__(self, *, bucket: str, endpoint_url: str | None = None, region: str | None = "us-east-1",
                 access_key_id: str | None = None, secret_access_key: str | None = None, client: Any = None):
        if not bucket:
            raise ValueError("S3Store needs a bucket name (S3_BUCKET)")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region or "us-east-1"
        self._credentials = (access_key_id, secret_access_key)
        self._client = client
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Store(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    @property
    def client(self) -> Any:
        """The boto3 client, built on first use (so nothing is created at import or before a fork)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    config = Config(
                        signature_version="s3v4",
                        retries={"mode": "standard", "max_attempts": 3},
                        connect_timeout=10, read_timeout=60,
                        # S3-compatible servers on an IP or a private name only answer path-style requests
                        s3={"addressing_style": "path"} if self.endpoint_url else {},
                    )
                    session = boto3.session.Session()  # a private session: the default one is not thread-safe
                    self._client = session.client(
                        "s3", endpoint_url=self.endpoint_url, region_name=self.region,
                        aws_access_key_id=self._credentials[0], aws_secret_access_key=self._credentials[1],
                        config=config)
        return self._client

    # finished objects
    def put(self, key: str, data: Data, *, content_type: str, overwrite: bool = False) -> None:
        validate_key(key)
        view = _as_view(data)
        put_id = uuid.uuid4().hex
        extra: dict[str, Any] = {"ContentType": content_type, "Metadata": {PUT_ID: put_id}}
        if not overwrite:
            extra["IfNoneMatch"] = "*"
        if isinstance(data, bytes) and len(data) <= self.multipart_threshold:
            first = data  # no copy for the common case: a photo or a derivative already in memory
        elif view is not None:
            first = bytes(view[:self.multipart_threshold + 1])
        else:
            first = _read_exactly(data, self.multipart_threshold + 1)  # a failing stream fails before any request
        try:
            if len(first) <= self.multipart_threshold:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=first, **extra)
            else:
                if not overwrite and self._head(key) is not None:  # spare uploading many parts for nothing
                    raise ObjectExists(key)
                rest = view[len(first):] if view is not None else data
                self._put_multipart(key, first, rest, extra)
        except Exception as exc:
            if _error_code(exc) in _CONFLICT or _status(exc) == 412:
                if self._written_by(key, put_id):  # a retry of our own successful write: not a conflict
                    return
                raise ObjectExists(key) from exc
            raise

    def _put_multipart(self, key: str, first: bytes, rest: Any, extra: dict[str, Any]) -> None:
        condition = {"IfNoneMatch": extra.pop("IfNoneMatch")} if "IfNoneMatch" in extra else {}
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, **extra)["UploadId"]
        try:
            parts = []
            for number, body in enumerate(_blocks_of(first, rest, self.part_size), start=1):
                etag = self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                               PartNumber=number, Body=body)["ETag"]
                parts.append({"PartNumber": number, "ETag": etag})
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                  MultipartUpload={"Parts": parts}, **condition)
        except BaseException:  # a failing stream, a network error, a refused condition: no object, no parts
            with contextlib.suppress(Exception):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise

    def _written_by(self, key: str, put_id: str) -> bool:
        head = self._head(key)
        return head is not None and head.get("Metadata", {}).get(PUT_ID) == put_id

    def _head(self, key: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _error_code(exc) in _MISSING or _status(exc) == 404:
                return None
            raise

    def open(self, key: str) -> BinaryIO:
        validate_key(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except Exception as exc:
            if _error_code(exc) in _MISSING:
                raise KeyError(key) from exc
            raise

    def exists(self, key: str) -> bool:
        return self._head(validate_key(key)) is not None

    def size(self, key: str) -> int | None:
        head = self._head(validate_key(key))
        return None if head is None else int(head["ContentLength"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=validate_key(key))

    def _objects(self, prefix: str) -> Iterator[dict]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", ())

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        validate_prefix(prefix)
        for item in self._objects(prefix):
            key = item["Key"]
            if key.split("/", 1)[0] == STAGING:
                continue
            yield StoredObject(key=key, size=int(item["Size"]), modified_at=item["LastModified"].astimezone(UTC))

    def url(self, key: str, *, expires_in: int, filename: str | None = None,
            content_type: str | None = None) -> str | None:
        validate_key(key)
        if not isinstance(expires_in, int) or expires_in <= 0:
            raise ValueError(f"expires_in must be a positive number of seconds, not {expires_in!r}")
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if content_type:
            params["ResponseContentType"] = content_type
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        return self.client.generate_presigned_url("get_object", Params=params,
                                                  ExpiresIn=min(expires_in, MAX_URL_SECONDS))

    # staging
    def _staged_prefix(self, upload_id: str) -> str:
        return f"{STAGING}/{validate_upload_id(upload_id)}/"

    def _chunk_key(self, upload_id: str, start: int) -> str:
        return f"{self._staged_prefix(upload_id)}{start:015d}"

    def staged(self, upload_id: str) -> Staged:
        """The contiguous run of chunks from offset 0, by listing them."""
        starts = []
        end = 0
        for item in self._objects(self._staged_prefix(upload_id)):
            name = item["Key"].rpartition("/")[2]
            if not name.isdigit() or int(name) != end:
                break  # a gap (only after a discard raced an append): what follows is not staged
            starts.append(end)
            end += int(item["Size"])
        return Staged(end, tuple(starts))

    def stage_chunk(self, upload_id: str, offset: int, data: Data, *, known: Staged | None = None) -> Staged:
        """With `known` at this offset, one PutObject; otherwise a listing first. Either way the put is
        conditional (If-None-Match), so a chunk whose offset another writer took is refused with the
        staged bytes looked up."""
        validate_upload_id(upload_id)
        _check_offset(offset)
        current = known if known is not None and known.size == offset else self.staged(upload_id)
        if offset != current.size:
            raise OffsetMismatch(current.size, current)
        chunk = _read_all(data)
        if not chunk:
            return current
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._chunk_key(upload_id, offset), Body=chunk,
                                   ContentType="application/octet-stream", IfNoneMatch="*")
        except Exception as exc:
            if _error_code(exc) in _CONFLICT or _status(exc) == 412:  # another writer staged this offset
                found = self.staged(upload_id)
                raise OffsetMismatch(found.size, found) from exc
            raise
        return Staged(offset + len(chunk), (*current.starts, offset))

    def open_staged(self, upload_id: str, *, known: Staged | None = None, tail: bytes | None = None) -> BinaryIO:
        """The chunks `known` names, read back (the last one not, when it is `tail`); if one of them is missing
        or not the size recorded, the chunks found by listing instead. In memory up to multipart_threshold,
        else in a temporary file."""
        validate_upload_id(upload_id)
        if known is not None and known.size and known.starts:
            try:
                return self._read_chunks(upload_id, known, tail)
            except KeyError:
                pass  # the record was stale: look
        found = self.staged(upload_id)
        if not found.size:
            raise KeyError(upload_id)
        return self._read_chunks(upload_id, found, None)

    def _read_chunks(self, upload_id: str, staged: Staged, tail: bytes | None) -> BinaryIO:
        """`tail` stands for the last chunk (only ever passed with the caller's own record)."""
        in_memory = staged.size <= self.multipart_threshold
        parts: list[bytes] = []
        out: BinaryIO = io.BytesIO() if in_memory else tempfile.TemporaryFile()  # type: ignore[assignment]
        try:
            for start, end in staged.spans():
                if tail is not None and end == staged.size and len(tail) == end - start:
                    block = tail  # this request's bytes: not read back
                else:
                    try:
                        body = self.client.get_object(Bucket=self.bucket, Key=self._chunk_key(upload_id, start))["Body"]
                    except Exception as exc:
                        if _error_code(exc) in _MISSING or _status(exc) == 404:
                            raise KeyError(upload_id) from exc
                        raise
                    with contextlib.closing(body):
                        block = body.read()
                    if len(block) != end - start:
                        raise KeyError(upload_id)
                if in_memory:
                    parts.append(block)
                else:
                    out.write(block)
            if in_memory:
                out = io.BytesIO(b"".join(parts))
            out.seek(0)
        except BaseException:
            out.close()
            raise
        return out

    def discard_staged(self, upload_id: str, *, known: Staged | None = None) -> None:
        """With `known`: one DeleteObjects of its chunks (per 1,000), no listing. Otherwise list and delete
        until nothing is left."""
        prefix = self._staged_prefix(upload_id)
        if known is not None:
            keys = [{"Key": self._chunk_key(upload_id, start)} for start in known.starts]
            for first in range(0, len(keys), 1000):
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys[first:first + 1000],
                                                                       "Quiet": True})
            return
        while True:
            page = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
            keys = [{"Key": item["Key"]} for item in page.get("Contents", ())]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
            if not page.get("IsTruncated"):  # deleting while paging would skip keys: list again if more
                return

    def list_staged(self) -> Iterator[StoredObject]:
        current: str | None = None
        size = 0
        latest: datetime | None = None
        contiguous = True
        for item in self._objects(f"{STAGING}/"):
            upload_id, _, name = item["Key"][len(STAGING) + 1:].partition("/")
            if upload_id != current:
                if current is not None and latest is not None:
                    yield StoredObject(key=current, size=size, modified_at=latest.astimezone(UTC))
                current, size, latest, contiguous = upload_id, 0, None, True
            modified = item["LastModified"]
            latest = modified if latest is None else max(latest, modified)
            if contiguous and name.isdigit() and int(name) == size:
                size += int(item["Size"])
            else:
                contiguous = False
        if current is not None and latest is not None:
            yield StoredObject(key=current, size=size, modified_at=latest.astimezone(UTC))

    def sweep_incomplete(self, older_than: timedelta) -> int:
        """Abort multipart uploads started before the cutoff (their parts are billed and never visible)."""
        cutoff = datetime.now(UTC) - older_than
        removed = 0
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket):
            for upload in page.get("Uploads", ()):
                if upload["Initiated"].astimezone(UTC) < cutoff:
                    with contextlib.suppress(Exception):
                        self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                           UploadId=upload["UploadId"])
                        removed += 1
        return removed


# --- construction ---------------------------------------------------------------------------------------


def make_store(config: Mapping) -> MediaStore:
    """The store the configuration asks for (MEDIA_BACKEND local|s3). Creates and contacts nothing;
    raises ConfigError (naming the variable to set) when the configuration is incomplete."""
    from .config import ConfigError

    backend = (config.get("MEDIA_BACKEND") or "local").lower()
    if backend == "local":
        root = config.get("MEDIA_ROOT")
        if not root:
            raise ConfigError("MEDIA_BACKEND=local cần biến môi trường MEDIA_ROOT (thư mục lưu ảnh và tài liệu).")
        return LocalStore(Path(root))
    if backend == "s3":
        if not config.get("S3_BUCKET"):
            raise ConfigError("MEDIA_BACKEND=s3 cần biến môi trường S3_BUCKET (tên bucket lưu ảnh và tài liệu).")
        return S3Store(bucket=config["S3_BUCKET"], endpoint_url=config.get("S3_ENDPOINT_URL") or None,
                       region=config.get("S3_REGION") or "us-east-1",
                       access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
                       secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None)
    raise ConfigError(f"MEDIA_BACKEND phải là 'local' hoặc 's3' (nhận được {backend!r}).")


__all__ = [
    "LocalStore", "MediaStore", "ObjectExists", "OffsetMismatch", "S3Store", "Staged", "StoredObject",
    "content_disposition", "independent_reader", "make_store", "reopen", "validate_key",
]
