"""Finding the checkpoint ``--resume`` continues from: the newest intact one.

Loading and key matching are in :mod:`visiondiv.utils.checkpoint`.
"""
import glob
import logging
import os.path as osp
import re
import zipfile
from typing import List, Optional

import torch
from mmengine.logging import print_log

#: checkpoint names mmengine's CheckpointHook writes (``filename_tmpl`` ``epoch_{}.pth``/``iter_{}.pth``)
_CKPT_NAME = re.compile(r'^(?:epoch|iter)_(\d+)\.pth$')


def is_intact_checkpoint(path: str) -> bool:
    """Whether ``path`` is a readable torch checkpoint file.

    torch (>= 1.6) writes a zip archive whose central directory is at the
    end, so a truncated file is detected without reading it whole; a file in
    the legacy (non-zip) format is loaded to tell.

    Args:
        path (str): the checkpoint file.

    Returns:
        bool: True when the file exists, is not empty and can be read.
    """
    if not osp.isfile(path) or osp.getsize(path) == 0:
        return False
    if zipfile.is_zipfile(path):
        return True
    try:
        torch.load(path, map_location='cpu', weights_only=False)
    except Exception:  # any failure to unpickle means "not resumable"
        return False
    return True


def _newest_first(work_dir: str) -> List[str]:
    """mmengine-named checkpoints in ``work_dir``, newest (modification time, then number) first."""
    paths = [p for p in glob.glob(osp.join(glob.escape(work_dir), '*.pth')) if _CKPT_NAME.match(osp.basename(p))]
    return sorted(paths, key=lambda p: (osp.getmtime(p), int(_CKPT_NAME.match(osp.basename(p)).group(1))),
                  reverse=True)


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` (without a path) continues from, or None when there is none.

    mmengine's ``find_latest_checkpoint`` returns what ``work_dir/last_checkpoint``
    names, even when that file is truncated (resuming then fails in torch with
    "failed finding central directory") or ``last_checkpoint`` itself is empty
    (CheckpointHook rewrites it in place). Here that file is used when it is
    intact; otherwise, with a warning naming it, the newest intact
    ``epoch_*.pth``/``iter_*.pth`` in ``work_dir``.

    Args:
        work_dir (str): the run's work directory.

    Returns:
        str, optional: the checkpoint's path, or None.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    named = None
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip() or None
        if named is not None and ('://' in named or is_intact_checkpoint(named)):
            return named  # a remote out_dir cannot be checked here: mmengine's behaviour
        if named is None:
            problem = 'is empty'
        else:
            problem = f"names {named}, which {'is truncated or unreadable' if osp.isfile(named) else 'is missing'}"
        print_log(f'{pointer} {problem}; looking for the newest intact checkpoint in {work_dir}',
                  logger='current', level=logging.WARNING)
    for path in _newest_first(work_dir):
        if named is not None and osp.abspath(path) == osp.abspath(named):
            continue
        if is_intact_checkpoint(path):
            if osp.isfile(pointer):
                print_log(f'resuming from {path} instead', logger='current', level=logging.WARNING)
            return path
        print_log(f'skipping unreadable checkpoint {path}', logger='current', level=logging.WARNING)
    return None
