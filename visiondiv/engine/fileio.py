"""Atomic local writes: an mmengine file backend for files, :func:`torch_save_atomically` for a converted
checkpoint, and :func:`write_folder_atomically` for folders.

Registered as ``atomic_local``. mmengine's ``save_checkpoint`` writes through
``get_file_backend(filename, backend_args).put``, so a config selects it for
checkpoints with::

    default_hooks = dict(checkpoint=dict(type='CheckpointHook', backend_args=dict(backend='atomic_local')))

``backend_args`` with a ``backend`` name overrides the URI prefix in mmengine,
so use it only with local ``work_dir``/``out_dir`` paths.
"""
import io
import os
import os.path as osp
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Callable, TypeVar, Union

import mmengine
import torch
from mmengine.fileio import LocalBackend, register_backend


T = TypeVar('T')


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """:class:`mmengine.fileio.LocalBackend` whose writes are atomic.

    ``put`` and ``put_text`` write to a temporary file in the destination's
    directory, flush it to disk and rename it over the destination
    (``os.replace``). A process killed or failing mid-write thus leaves the
    previous file intact (and a run resumable from it) instead of a truncated
    one; the temporary file is removed when the write fails with an exception.
    Reading, listing and removing are :class:`LocalBackend`'s.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Atomically write ``obj`` to ``filepath``, creating its directory if needed.

        Args:
            obj: the bytes to write.
            filepath: the destination; replaced only once ``obj`` is fully on disk.
        """
        filepath = osp.abspath(str(filepath))
        dirname = osp.dirname(filepath)
        mmengine.mkdir_or_exist(dirname)
        # same directory, so that os.replace is a rename within one filesystem; 'xb' (not mkstemp) so
        # that the file gets the umask's permissions, as LocalBackend's do
        tmp = osp.join(dirname, f'.{osp.basename(filepath)}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp')
        try:
            with open(tmp, 'xb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        except BaseException:  # KeyboardInterrupt/SystemExit too: never leave the temp file behind
            try:
                os.remove(tmp)
            except FileNotFoundError:
                pass
            raise
        _fsync_dir(dirname)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        """Atomically write the text ``obj`` to ``filepath`` (see :meth:`put`).

        Args:
            obj: the text to write.
            filepath: the destination.
            encoding: the text encoding.
        """
        self.put(obj.encode(encoding), filepath)


def _fsync_dir(dirname: str) -> None:
    """Persist the rename itself (POSIX); without it a power loss can undo the replace."""
    if os.name != 'posix':
        return
    fd = os.open(dirname, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def torch_save_atomically(obj: object, path: str) -> None:
    """``torch.save(obj, path)`` through :class:`AtomicLocalBackend`: ``path`` holds the old file or the whole new
    one, never a part (the model converters' outputs).

    Args:
        obj (object): what to save (a checkpoint dict, a state dict).
        path (str): the local file to write.
    """
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    AtomicLocalBackend().put(buffer.getvalue(), path)


def write_folder_atomically(out: str, write: Callable[[str], T]) -> T:
    """``write(folder)`` into a new folder beside ``out``, renamed to ``out`` once it has succeeded.

    On any failure the folder is removed, so ``out`` is either complete or absent. ``out`` must not
    exist or be an empty folder (a rename cannot merge into existing files). Missing parent folders are
    created, and removed again on failure if still empty. The new folder gets the umask's permissions.

    Args:
        out (str): the folder to produce.
        write (Callable[[str], T]): called once with the path of the temporary folder (in ``out``'s parent)
            to fill; what it returns is returned.

    Returns:
        T: the return value of ``write``.

    Raises:
        FileExistsError: ``out`` exists and is not an empty folder.
    """
    out = osp.abspath(out)
    if osp.exists(out) and (not osp.isdir(out) or os.listdir(out)):
        raise FileExistsError(f'{out} exists and is not an empty folder; remove it or choose another')
    parent, created = osp.dirname(out), []
    while not osp.exists(parent):              # folders made here, removed again on failure
        created.append(parent)
        parent = osp.dirname(parent)
    os.makedirs(osp.dirname(out), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(out)}.partial-', dir=osp.dirname(out))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)              # mkdtemp's 0o700 would stay on the renamed folder
    try:
        result = write(tmp)
        os.replace(tmp, out)                   # one rename on one file system; replaces an empty out
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for folder in created:
            if osp.isdir(folder) and not os.listdir(folder):
                os.rmdir(folder)
        raise
    return result
