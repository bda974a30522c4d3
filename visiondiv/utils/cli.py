"""The command line that ``tools/train.py`` and ``tools/test.py`` share (mmdet 3.x's)."""
import argparse
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config, DictAction


def make_parser(description: str, config_help: str = 'config file path') -> argparse.ArgumentParser:
    """A parser with the arguments common to the tools.

    ``config``, ``--work-dir``, ``--cfg-options``, ``--launcher`` and
    ``--local_rank``/``--local-rank``. Tools add their own arguments after
    (positionals added later come after ``config``).

    Args:
        description: the tool's description for ``--help``.
        config_help: the help of the ``config`` positional.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help=config_help)
    parser.add_argument('--work-dir', help='the dir to save logs, checkpoints and metrics '
                                           '(default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. optim_wrapper.optimizer.lr=0.01')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    # torch >= 2.0's distributed launcher passes --local-rank, older ones --local_rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def parse_cli_args(parser: argparse.ArgumentParser, argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse ``argv`` and export ``LOCAL_RANK`` (mmengine's ``init_dist`` reads it) unless the launcher did."""
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def apply_cli_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the shared overrides to ``cfg`` in place (and return it).

    ``--launcher``, ``--cfg-options`` and ``--work-dir``; the work dir is, in
    order, ``--work-dir``, the config's ``work_dir``, ``work_dirs/<config name>``.
    """
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def load_config(args: argparse.Namespace) -> Config:
    """``Config.fromfile(args.config)`` with :func:`apply_cli_args` applied."""
    return apply_cli_args(Config.fromfile(args.config), args)
