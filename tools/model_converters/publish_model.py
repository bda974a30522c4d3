"""Prepare a checkpoint for publishing, as mmdet's tool: keep only what inference needs, add a hash to the name.

Training state (``optimizer``, ``message_hub``, ``param_schedulers``...) is dropped, the rest is
saved, and the first 8 hex digits of the saved file's sha256 are appended to its name:

    python tools/model_converters/publish_model.py work_dirs/x/epoch_12.pth published/kld_dota.pth
    # -> published/kld_dota-1a2b3c4d.pth

Before anything is written, the checkpoint is loaded into the model of its config, with the checks of
``tools/test.py`` (``visiondiv.apis.init_detector``): it must cover the whole model, and the classes it was
trained on must be the config's test dataset's, in the same order. The config is ``--config`` or else the one
the runner saved in the checkpoint (``meta.cfg``); a checkpoint with neither is published unchecked, with a
note:

    python tools/model_converters/publish_model.py epoch_12.pth kld_dota.pth --config configs/kld/....py

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
    parser.add_argument('--config', help='check the checkpoint against this config\'s model and test classes '
                                         '(default: the config saved in the checkpoint, meta.cfg)')
    return parser.parse_args(argv)


def check_fits_config(in_file: str, checkpoint: dict, config: Optional[str] = None) -> bool:
    """Load ``in_file`` into the model of ``config`` (else of its ``meta.cfg``) with the checks of tools/test.py.

    Returns:
        bool: whether it was checked (False: no config to check against).

    Raises:
        CheckpointMismatchError: naming ``in_file``: of another model, covering part of it, or trained on other
            classes than the config's test dataset.
    """
    from mmengine.config import Config

    from visiondiv.apis import init_detector
    from visiondiv.utils import register_all_modules
    if config is None:
        text = checkpoint.get('meta', {}).get('cfg') if isinstance(checkpoint.get('meta'), dict) else None
        if not text:
            print(f'{in_file}: not checked against a model (no meta.cfg in it): pass --config CONFIG to check it')
            return False
        config = Config.fromstring(text, '.py')
    register_all_modules(init_default_scope=False)
    init_detector(config, in_file, device='cpu')
    return True


def sha256_file(path: str, chunk: int = 1 << 20) -> str:
    """Hex sha256 of the file at ``path``."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


def process_checkpoint(in_file: str, out_file: str, save_keys: Sequence[str] = DEFAULT_SAVE_KEYS,
                       config: Optional[str] = None) -> str:
    """Save ``in_file`` with only ``save_keys`` as ``<out_file stem>-<sha256[:8]>.pth``; return that path.

    The checkpoint is first checked against ``config`` (else its ``meta.cfg``), see :func:`check_fits_config`.

    Raises:
        FileNotFoundError: ``in_file`` does not exist.
        KeyError: the checkpoint has no ``state_dict`` to publish.
        CheckpointMismatchError: the checkpoint does not fit the config's model or classes.
    """
    if not osp.isfile(in_file):
        raise FileNotFoundError(f'checkpoint not found: {in_file}')
    checkpoint = torch.load(in_file, map_location='cpu', weights_only=False)
    if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
        raise KeyError(f'{in_file}: not an mmengine checkpoint (no "state_dict" key)')
    check_fits_config(in_file, checkpoint, config)
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
    process_checkpoint(args.in_file, args.out_file, args.save_keys, args.config)


if __name__ == '__main__':
    main()
