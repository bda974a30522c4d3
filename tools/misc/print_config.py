"""Print the fully merged config (``_base_`` files resolved, ``--cfg-options`` applied), as mmdet's tool.

    python tools/misc/print_config.py CONFIG [--cfg-options k=v ...] [--save-path merged.py]
"""
import argparse
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config, DictAction

from visiondiv.utils import merge_cfg_options

SAVE_SUFFIXES = ('.py', '.json', '.yml', '.yaml')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Print the whole config')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--save-path', help=f'also write the merged config here ({", ".join(SAVE_SUFFIXES)})')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. model.bbox_head.num_classes=2 '
                             'or train_dataloader.batch_size=8; lists as key="[a,b]"')
    return parser.parse_args(argv)


def merged_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """The config at ``path`` with its bases merged and ``cfg_options`` applied.

    The options are type-checked as ``tools/train.py`` checks them
    (:func:`visiondiv.utils.merge_cfg_options`): what train refuses is refused here too.

    Args:
        path (str): config file.
        cfg_options (dict, optional): ``{dotted.key: value}`` overrides, as ``--cfg-options`` gives them.
            Defaults to None (none).

    Returns:
        Config: the merged config.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        TypeError: an option's value does not have the type of the config value it replaces.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    return merge_cfg_options(Config.fromfile(path), cfg_options)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    if args.save_path is not None and not args.save_path.endswith(SAVE_SUFFIXES):
        raise ValueError(f'--save-path {args.save_path}: the file name must end with one of {SAVE_SUFFIXES}')
    cfg = merged_config(args.config, args.cfg_options)
    print(f'Config:\n{cfg.pretty_text}')
    if args.save_path is not None:
        cfg.dump(args.save_path)
        print(f'merged config saved to {args.save_path}')


if __name__ == '__main__':
    main()
