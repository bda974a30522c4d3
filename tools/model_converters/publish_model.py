"""Prepare a checkpoint for publishing, as mmdet's tool: keep only what inference needs, add a hash to the name.

Training state (``optimizer``, ``message_hub``, ``param_schedulers``...) is dropped, the rest is
saved, and the first 8 hex digits of the saved file's sha256 are appended to its name:

    python tools/model_converters/publish_model.py work_dirs/x/epoch_12.pth published/kld_dota.pth
    # -> published/kld_dota-1a2b3c4d.pth

Checkpoints are pickles (torch >= 2.6's restricted loader cannot read mmengine's): publish only
files you trust.
"""
import argparse
import hashlib
import os
import os.path as osp
from typing import Optional, Sequence

import torch

DEFAULT_SAVE_KEYS = ('meta', 'state_dict')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Process a checkpoint to be published')
    parser.add_argument('in_file', help='input checkpoint filename')
    parser.add_argument('out_file', help='output checkpoint filename (the hash is appended before .pth)')
    parser.add_argument('--save-keys', nargs='+', default=list(DEFAULT_SAVE_KEYS),
                        help='top-level checkpoint keys to keep (default: meta state_dict)')
    return parser.parse_args(argv)


def sha256_file(path: str, chunk: int = 1 << 20) -> str:
    """Hex sha256 of the file at ``path``."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


def process_checkpoint(in_file: str, out_file: str, save_keys: Sequence[str] = DEFAULT_SAVE_KEYS) -> str:
    """Save ``in_file`` with only ``save_keys`` as ``<out_file stem>-<sha256[:8]>.pth``; return that path.

    Raises:
        FileNotFoundError: ``in_file`` does not exist.
        KeyError: the checkpoint has no ``state_dict`` to publish.
    """
    if not osp.isfile(in_file):
        raise FileNotFoundError(f'checkpoint not found: {in_file}')
    checkpoint = torch.load(in_file, map_location='cpu', weights_only=False)
    if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
        raise KeyError(f'{in_file}: not an mmengine checkpoint (no "state_dict" key)')
    removed = sorted(k for k in checkpoint if k not in save_keys)
    checkpoint = {k: v for k, v in checkpoint.items() if k in save_keys}
    if removed:
        print(f'removed keys: {", ".join(removed)} (keep them with --save-keys)')
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    torch.save(checkpoint, out_file)
    stem = out_file[:-len('.pth')] if out_file.endswith('.pth') else out_file
    final_file = f'{stem}-{sha256_file(out_file)[:8]}.pth'
    os.replace(out_file, final_file)  # the hash names the exact bytes: rename, never re-save
    print(f'published model saved to {final_file}')
    return final_file


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    process_checkpoint(args.in_file, args.out_file, args.save_keys)


if __name__ == '__main__':
    main()
