"""Extract the student of a ``SingleTeacherDistill`` checkpoint, for the student's own config.

The wrapper's state dict holds the student under ``architecture.``, the teacher under ``teacher.`` and the
distillation losses' buffers under ``distill_losses.``. This keeps the ``architecture.`` tensors without the
prefix (mmengine's ``module.`` prefix of a distributed run stripped first), drops everything else (teacher,
losses, optimizer, message hub, schedulers) and writes ``{'meta': ..., 'state_dict': ...}`` atomically::

    python tools/model_converters/distill_to_student.py work_dirs/kd_r34_r18/epoch_100.pth checkpoints/r18_kd.pth

The result loads strictly into the student's own config (``load_from``, ``tools/test.py``). ``meta`` keeps
``dataset_meta`` (the classes, which the project's checkpoint checks compare) but not ``cfg``, which is the
wrapper's config, not the student's.

Checkpoints are pickles: convert only files you trust.
"""
import argparse
import re
from collections import OrderedDict
from typing import Mapping, Optional, Sequence

import torch

from visiondiv.engine.fileio import torch_save_atomically
from visiondiv.utils.checkpoint import load_from_local

STUDENT_PREFIX = 'architecture.'
#: top-level meta entries that describe the wrapper run, not the student
DROPPED_META = ('cfg',)


def student_state_dict(state_dict: Mapping[str, torch.Tensor], source: str = 'state dict') -> 'OrderedDict':
    """The ``architecture.`` tensors of a wrapper state dict, without the prefix.

    Args:
        state_dict (Mapping[str, Tensor]): the ``SingleTeacherDistill`` weights (``module.`` prefixes allowed).
        source (str): the file, for the message. Defaults to 'state dict'.

    Returns:
        OrderedDict[str, Tensor]: the student's weights.

    Raises:
        KeyError: naming ``source``, when there is no ``architecture.`` key (not a distillation checkpoint).
    """
    student = OrderedDict()
    for key, value in state_dict.items():
        bare = re.sub(r'^module\.', '', key)
        if bare.startswith(STUDENT_PREFIX):
            student[bare[len(STUDENT_PREFIX):]] = value
    if not student:
        shown = ', '.join(list(state_dict)[:5])
        raise KeyError(f'{source}: no {STUDENT_PREFIX}* keys, so not a SingleTeacherDistill checkpoint '
                       f'(its keys: {shown}{", ..." if len(state_dict) > 5 else ""})')
    return student


def convert_file(src: str, dst: str) -> dict:
    """Write the student of the wrapper checkpoint ``src`` to ``dst`` (atomically); return what was written."""
    checkpoint = load_from_local(src, map_location='cpu')
    if not isinstance(checkpoint, Mapping):
        raise TypeError(f'{src}: not a checkpoint but a {type(checkpoint).__name__}')
    state = checkpoint['state_dict'] if 'state_dict' in checkpoint else checkpoint
    out = dict(state_dict=student_state_dict(state, src))
    meta = checkpoint.get('meta') if 'state_dict' in checkpoint else None
    if isinstance(meta, Mapping):
        out['meta'] = {k: v for k, v in meta.items() if k not in DROPPED_META}
    torch_save_atomically(out, dst)
    return out


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Extract the student of a SingleTeacherDistill checkpoint')
    parser.add_argument('src', help='checkpoint of a SingleTeacherDistill run')
    parser.add_argument('dst', help='output checkpoint of the student alone')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    out = convert_file(args.src, args.dst)
    print(f'{args.src} -> {args.dst}: {len(out["state_dict"])} student tensors')


if __name__ == '__main__':
    main()
