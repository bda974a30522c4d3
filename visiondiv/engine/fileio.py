"""An mmengine file backend that writes local files atomically.

Registered as ``atomic_local``. mmengine's ``save_checkpoint`` writes through
``get_file_backend(filename, backend_args).put``, so a config selects it for
checkpoints with::

    default_hooks = dict(checkpoint=dict(type='CheckpointHook', backend_args=dict(backend='atomic_local')))

``backend_args`` with a ``backend`` name overrides the URI prefix in mmengine,
so use it only with local ``work_dir``/``out_dir`` paths.
"""
import os
import os.path as osp
import uuid
from pathlib import Path
from typing import Union

import mmengine
from mmengine.fileio import LocalBackend, register_backend


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
