"""OMS v1.0 model serialization: enumerate a model, hash its files (or shards) in parallel.

The model is a directory or one regular file. Files are named by their relative POSIX path from the
model root (a single-file model's one resource is named ``.``); ``shards`` names are
``path:start:end``. Ignored paths (the git files, the signature file, the caller's) are matched as
path prefixes relative to the root and are never entered. Symbolic links and special files are not
followed or hashed: signing refuses them, verification reports them. Files are streamed in 1 MiB
reads into one reused buffer per worker, on a pool of cores + 4 threads (at most 32; hashlib
releases the GIL while it hashes), largest work first.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from provenance.errors import ProvenanceError
from provenance.model.limits import MODEL_SIZE_LIMITS

CHUNK_BYTES = 1024 * 1024
DEFAULT_SHARD_SIZE = 1_000_000_000
SINGLE_FILE_NAME = "."
GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")
"""Ignored by default, as the reference implementation does (relative to the model root)."""
HASH_TYPES = {"sha256": 32, "blake2b": 64}
"""Supported ``hash_type`` values and their digest sizes in bytes."""

Progress = Callable[[int], None]
"""Called with each number of bytes just hashed (from worker threads)."""


class ModelPathError(ProvenanceError):
    """The model path cannot be serialized (missing, a symlink, a special file, a bad name)."""


@dataclass(frozen=True)
class Serialization:
    """How a model is serialized (the OMS predicate's ``serialization``)."""

    method: str = "files"
    hash_type: str = "sha256"
    shard_size: int | None = None
    ignore_paths: tuple[str, ...] = ()
    allow_symlinks: bool = False

    def to_json(self) -> dict[str, object]:
        """The ``serialization`` object (``ignore_paths`` sorted, omitted when empty)."""
        obj: dict[str, object] = {
            "method": self.method,
            "hash_type": self.hash_type,
            "allow_symlinks": self.allow_symlinks,
        }
        if self.shard_size is not None:
            obj["shard_size"] = self.shard_size
        if self.ignore_paths:
            obj["ignore_paths"] = sorted(set(self.ignore_paths))
        return obj


@dataclass(frozen=True)
class Resource:
    """One signed item: a file (``start``/``end`` None) or a byte range of one."""

    path: str
    digest: bytes
    start: int | None = None
    end: int | None = None

    @property
    def name(self) -> str:
        """The OMS resource name: the path, or ``path:start:end`` for a shard."""
        if self.start is None:
            return self.path
        return f"{self.path}:{self.start}:{self.end}"


@dataclass(frozen=True)
class Manifest:
    """A serialized model: its name, resources in canonical order, and how it was serialized."""

    model_name: str
    resources: tuple[Resource, ...]
    serialization: Serialization

    @property
    def root_digest(self) -> str:
        """SHA-256 over the resources' raw digests in their order (the subject digest)."""
        return root_digest(r.digest for r in self.resources)


@dataclass(frozen=True)
class LocalFile:
    """A regular file of the model as found on disk."""

    path: str
    size: int


@dataclass(frozen=True)
class Listing:
    """What enumeration found: the regular files, and entries it cannot serialize (with why)."""

    files: tuple[LocalFile, ...]
    problems: tuple[tuple[str, str], ...]


def root_digest(digests: Iterable[bytes]) -> str:
    """The OMS subject digest: SHA-256 over the concatenated raw resource digests."""
    hasher = hashlib.sha256()
    for digest in digests:
        hasher.update(digest)
    return hasher.hexdigest()


def sort_key(resource: Resource) -> tuple[tuple[str, ...], int, int]:
    """Canonical order: by path components (as the reference's PurePosixPath), then offsets."""
    return (tuple(resource.path.split("/")), resource.start or 0, resource.end or 0)


def model_name(root: Path) -> str:
    """The subject name: the final component of the model path (resolved when it has none)."""
    name = root.name
    if not name or name == "..":
        name = root.resolve().name
    return name


def default_ignores(extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The git paths plus ``extra`` (relative POSIX paths), deduplicated and sorted."""
    return tuple(sorted({*GIT_PATHS, *extra}))


def is_ignored(path: str, ignore_paths: Iterable[str]) -> bool:
    """Whether ``path`` equals an ignored path or lies under one."""
    return any(path == p or path.startswith(p + "/") for p in ignore_paths)


def check_relative(text: str, what: str) -> str:
    """Return ``text`` when it is a canonical relative POSIX path inside the model.

    Raises:
        ModelPathError: Empty, absolute, with ``.``/``..``/empty segments, a backslash or a NUL.
    """
    parts = text.split("/")
    if not text or "\\" in text or "\x00" in text or any(part in ("", ".", "..") for part in parts):
        raise ModelPathError(f"{what} {text!r} is not a canonical relative path inside the model")
    return text


def list_model(root: Path, ignore_paths: Iterable[str]) -> Listing:
    """Enumerate the regular files of the model at ``root`` (a directory or a file).

    Raises:
        ModelPathError: ``root`` is missing, a symbolic link or neither a file nor a directory.
    """
    try:
        info = root.lstat()
    except OSError as exc:
        raise ModelPathError(f"cannot read the model {root}: {exc.strerror}") from exc
    if stat.S_ISLNK(info.st_mode):
        raise ModelPathError(f"the model {root} is a symbolic link; give its target")
    if stat.S_ISREG(info.st_mode):
        return Listing((LocalFile(SINGLE_FILE_NAME, info.st_size),), ())
    if not stat.S_ISDIR(info.st_mode):
        raise ModelPathError(f"the model {root} is neither a regular file nor a directory")
    ignored = tuple(ignore_paths)
    files: list[LocalFile] = []
    problems: list[tuple[str, str]] = []
    _walk(root, "", ignored, files, problems)
    return Listing(tuple(files), tuple(problems))


def _walk(
    directory: Path,
    prefix: str,
    ignored: tuple[str, ...],
    files: list[LocalFile],
    problems: list[tuple[str, str]],
) -> None:
    try:
        entries = list(os.scandir(directory))
    except OSError as exc:
        problems.append((prefix or ".", f"cannot list the directory: {exc.strerror}"))
        return
    for entry in entries:
        name = _display_name(entry.name)
        relative = f"{prefix}{name}"
        if is_ignored(relative, ignored):
            continue
        if name != entry.name:
            problems.append((relative, "the file name is not UTF-8"))
            continue
        try:
            mode = entry.stat(follow_symlinks=False)
        except OSError as exc:
            problems.append((relative, f"cannot stat: {exc.strerror}"))
            continue
        if stat.S_ISDIR(mode.st_mode):
            _walk(Path(entry.path), relative + "/", ignored, files, problems)
        elif stat.S_ISREG(mode.st_mode):
            files.append(LocalFile(relative, mode.st_size))
        elif stat.S_ISLNK(mode.st_mode):
            problems.append((relative, "a symbolic link (OMS allow_symlinks is false)"))
        else:
            problems.append((relative, "not a regular file (device, FIFO or socket)"))


def _display_name(name: str) -> str:
    """``name`` itself when it is valid UTF-8, else its bytes with the bad ones escaped."""
    raw = os.fsencode(name)
    return raw.decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class _Task:
    path: str
    start: int | None
    end: int | None
    size: int


def default_workers() -> int:
    """Cores + 4 hashing threads (ThreadPoolExecutor's default for I/O-bound work): reads overlap
    hashing, and on a busy machine the pool keeps its share of the CPU. Each holds one 1 MiB buffer.
    """
    return (os.cpu_count() or 1) + 4


def shard_ranges(size: int, shard_size: int) -> list[tuple[int, int]]:
    """``[start, end)`` ranges of ``shard_size`` bytes covering ``size`` bytes; an empty file is
    the one range ``(0, 0)``, so that the manifest names it (``model-v1.md`` §2.2)."""
    if size == 0:
        return [(0, 0)]
    return [(start, min(start + shard_size, size)) for start in range(0, size, shard_size)]


def hash_files(
    root: Path,
    files: Sequence[LocalFile],
    serialization: Serialization,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[Resource]:
    """Hash ``files`` (or their shards) in parallel and return the resources in canonical order.

    Raises:
        ModelPathError: A file cannot be read.
    """
    tasks = _tasks(files, serialization)
    tasks.sort(key=lambda task: task.size, reverse=True)
    count = max(
        1, min(workers or default_workers(), MODEL_SIZE_LIMITS.max_workers, len(tasks) or 1)
    )
    single = root if _is_single(files) else None
    local = threading.local()

    def run(task: _Task) -> Resource:
        buffer = getattr(local, "buffer", None)
        if buffer is None:
            buffer = local.buffer = memoryview(bytearray(CHUNK_BYTES))
        path = single if single is not None else root / task.path
        digest = _hash_range(path, task, serialization.hash_type, buffer, progress)
        return Resource(task.path, digest, task.start, task.end)

    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="oms-hash") as pool:
        resources = list(pool.map(run, tasks))
    return sorted(resources, key=sort_key)


def _is_single(files: Sequence[LocalFile]) -> bool:
    return len(files) == 1 and files[0].path == SINGLE_FILE_NAME


def _tasks(files: Sequence[LocalFile], serialization: Serialization) -> list[_Task]:
    if serialization.method == "files":
        return [_Task(f.path, None, None, f.size) for f in files]
    assert serialization.shard_size is not None
    return [
        _Task(f.path, start, end, end - start)
        for f in files
        for start, end in shard_ranges(f.size, serialization.shard_size)
    ]


def _hash_range(
    path: Path, task: _Task, hash_type: str, buffer: memoryview, progress: Progress | None
) -> bytes:
    hasher = hashlib.new(hash_type)
    remaining = None if task.end is None else task.end - (task.start or 0)
    try:
        with open(path, "rb", buffering=0) as handle:
            if task.start:
                handle.seek(task.start)
            while remaining is None or remaining > 0:
                want = len(buffer) if remaining is None else min(len(buffer), remaining)
                count = handle.readinto(buffer[:want])
                if not count:
                    break
                hasher.update(buffer[:count])
                if remaining is not None:
                    remaining -= count
                if progress is not None:
                    progress(count)
    except OSError as exc:
        raise ModelPathError(f"cannot read {task.path}: {exc.strerror}") from exc
    return hasher.digest()


def serialize_model(
    root: Path,
    serialization: Serialization,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Manifest:
    """Serialize the model at ``root`` for signing: every file must be serializable.

    Raises:
        ModelPathError: A symbolic link, special file, non-UTF-8 name or unreadable file.
    """
    listing = list_model(root, serialization.ignore_paths)
    if listing.problems:
        path, reason = listing.problems[0]
        more = f" (and {len(listing.problems) - 1} more)" if len(listing.problems) > 1 else ""
        raise ModelPathError(f"cannot sign {path}: {reason}{more}")
    resources = hash_files(root, listing.files, serialization, workers=workers, progress=progress)
    return Manifest(model_name(root), tuple(resources), serialization)


def total_bytes(files: Iterable[LocalFile]) -> int:
    """The bytes hashing ``files`` reads."""
    return sum(f.size for f in files)
