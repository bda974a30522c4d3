"""The command line that ``tools/train.py`` and ``tools/test.py`` share (mmdet 3.x's)."""
import argparse
import datetime
import logging
import os
import os.path as osp
import subprocess
import sys
from typing import Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from visiondiv.utils.checkpoint import class_options
from visiondiv.utils.reproducibility import enter_reproducible_mode, requested_threads
from visiondiv.utils.validation import merge_cfg_options


def make_parser(description: str, config_help: str = 'config file path') -> argparse.ArgumentParser:
    """A parser with the arguments common to the tools.

    ``config``, ``--work-dir``, ``--cfg-options``, ``--reproducible``, ``--launcher`` and
    ``--local_rank``/``--local-rank``. Tools add their own arguments after
    (positionals added later come after ``config``).

    Args:
        description (str): the tool's description for ``--help``.
        config_help (str): the help of the ``config`` positional. Defaults to 'config file path'.

    Returns:
        argparse.ArgumentParser: the parser; ``--launcher`` defaults to ``'none'`` and
        ``--local_rank`` to 0.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help=config_help)
    parser.add_argument('--work-dir', help='the dir to save logs, checkpoints and metrics '
                                           '(default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. optim_wrapper.optimizer.lr=0.01')
    parser.add_argument('--reproducible', nargs='?', type=int, const=1, metavar='THREADS',
                        help='bit-reproducible CPU run across x86-64 vector widths: pin torch\'s kernel paths and '
                             'THREADS intra-op threads (default 1); about 3x slower '
                             '(docs/user_guides/train.md#reproducible-runs). Also VISIONDIV_REPRODUCIBLE=THREADS')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    # torch >= 2.0's distributed launcher passes --local-rank, older ones --local_rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def parse_cli_args(parser: argparse.ArgumentParser, argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse ``argv``, export ``LOCAL_RANK`` unless the launcher did, and enter reproducible mode if asked.

    mmengine's ``init_dist`` reads ``LOCAL_RANK``. With ``--reproducible`` or ``VISIONDIV_REPRODUCIBLE``
    the process re-executes itself once with the kernel paths pinned
    (:func:`visiondiv.utils.reproducibility.enter_reproducible_mode`); a call with an explicit ``argv``
    cannot be re-executed and fails unless the environment is already pinned.

    Args:
        parser (argparse.ArgumentParser): a parser from :func:`make_parser` (it needs ``--local_rank``).
        argv (Sequence[str], optional): the arguments to parse. Defaults to None (``sys.argv[1:]``).

    Returns:
        argparse.Namespace: the parsed arguments.
    """
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    threads = requested_threads(getattr(args, 'reproducible', None))
    if threads is not None:
        enter_reproducible_mode(threads, list(sys.argv) if argv is None else None)
    return args


def apply_cli_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the shared overrides to ``cfg`` in place (and return it).

    ``--launcher``, ``--cfg-options`` (type-checked and merged by :func:`merge_cfg_options`)
    and ``--work-dir``; the work dir is, in order, ``--work-dir``, the config's
    ``work_dir``, ``work_dirs/<config name>``.

    Args:
        cfg (Config): the loaded config; changed in place.
        args (argparse.Namespace): the parsed arguments of :func:`make_parser` (``config``,
            ``launcher``, ``cfg_options``, ``work_dir``).

    Returns:
        Config: ``cfg``.

    Raises:
        TypeError: a ``--cfg-options`` value of the wrong type (:func:`check_cfg_options`).
    """
    cfg.launcher = args.launcher
    merge_cfg_options(cfg, args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def load_config(args: argparse.Namespace) -> Config:
    """``Config.fromfile(args.config)`` with :func:`apply_cli_args` applied.

    Args:
        args (argparse.Namespace): the parsed arguments of :func:`make_parser`.

    Returns:
        Config: the config, with the command-line overrides.
    """
    return apply_cli_args(Config.fromfile(args.config), args)


def add_compatibility_check(cfg: Config, complete_checkpoint: bool) -> Config:
    """Add :class:`~visiondiv.engine.CompatibilityCheckHook` to ``cfg.custom_hooks`` (once) and return ``cfg``.

    A ``CompatibilityCheckHook`` already in ``custom_hooks`` is replaced by the new one. The config's
    top-level ``remap_classes`` and ``ignore_checkpoint_classes`` (what to do with a checkpoint trained on
    other classes, :func:`visiondiv.utils.checkpoint.class_options`) are passed to it when set.

    Args:
        cfg (Config): the config the runner is built from; changed in place.
        complete_checkpoint (bool): the checkpoint must cover the whole model (test, resume)
            rather than most of it (fine-tuning with ``load_from``).

    Returns:
        Config: ``cfg``.

    Raises:
        TypeError: ``remap_classes`` or ``ignore_checkpoint_classes`` is not True or False.
        ValueError: both are True.
    """
    hooks = [h for h in cfg.get('custom_hooks', None) or [] if h.get('type') != 'CompatibilityCheckHook']
    options = {k: v for k, v in class_options(cfg, getattr(cfg, 'filename', None) or '<config>').items() if v}
    hooks.append(dict(type='CompatibilityCheckHook', complete_checkpoint=complete_checkpoint, **options))
    cfg.custom_hooks = hooks
    return cfg


def _export_launcher_env(launcher: str) -> None:
    """Set torch's ``env://`` variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT) from slurm's or MPI's.

    torchrun (``launcher='pytorch'``) sets them itself. The mapping is the one
    mmengine's ``init_dist`` uses for these launchers.
    """
    env = os.environ
    if launcher == 'slurm':
        env['RANK'], env['WORLD_SIZE'] = env['SLURM_PROCID'], env['SLURM_NTASKS']
        env['LOCAL_RANK'] = env.get('SLURM_LOCALID', '0')
        if 'MASTER_ADDR' not in env:
            env['MASTER_ADDR'] = subprocess.getoutput(f"scontrol show hostname {env['SLURM_NODELIST']} | head -n1")
    elif launcher == 'mpi':
        env['RANK'], env['WORLD_SIZE'] = env['OMPI_COMM_WORLD_RANK'], env['OMPI_COMM_WORLD_SIZE']
        env['LOCAL_RANK'] = env['OMPI_COMM_WORLD_LOCAL_RANK']
        if 'MASTER_ADDR' not in env:
            raise KeyError('--launcher mpi needs the MASTER_ADDR environment variable')
    env.setdefault('MASTER_PORT', '29500')


def setup_distributed(cfg: Config) -> Config:
    """Make ``--launcher pytorch|slurm|mpi`` work on a machine without CUDA; a no-op otherwise.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` whatever the
    backend (``_init_dist_pytorch``, ``_init_dist_slurm``), which a CPU build
    of torch does not have, and its default ``nccl`` backend needs CUDA. But
    ``Runner.setup_env`` calls ``init_dist`` only when no process group exists
    yet, so on CPU this function starts the group itself with ``gloo`` (and
    records ``env_cfg.dist_cfg.backend='gloo'``), and sets the model wrapper's
    ``device_ids`` to None (the runner passes ``[LOCAL_RANK]``, which
    ``DistributedDataParallel`` refuses for a CPU module). Call it after the
    config is final and before the runner is built.

    Args:
        cfg (Config): the config; its ``launcher`` (set from ``--launcher``) decides. Changed in place.

    Returns:
        Config: ``cfg``.

    Raises:
        KeyError: without CUDA, an environment variable the launcher needs is missing (``RANK`` /
            ``WORLD_SIZE`` for pytorch, slurm's or MPI's own, and ``MASTER_ADDR`` for MPI).
    """
    import torch
    import torch.distributed as torch_dist
    from mmengine.registry import MODEL_WRAPPERS
    from torch.nn.parallel import DistributedDataParallel

    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return cfg
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    if dist_cfg.get('backend', 'nccl') != 'gloo':
        print_log(f"no CUDA: distributed backend 'gloo' instead of {dist_cfg.get('backend', 'nccl')!r}",
                  logger='current', level=logging.WARNING)
        dist_cfg['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg', None)
    if wrapper is None:  # the runner's default wrapper, with its arguments
        wrapper = dict(type='MMDistributedDataParallel', broadcast_buffers=False,
                       find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper_type = MODEL_WRAPPERS.get(wrapper.get('type', 'MMDistributedDataParallel'))
    if isinstance(wrapper_type, type) and issubclass(wrapper_type, DistributedDataParallel):
        wrapper.setdefault('device_ids', None)
    cfg.model_wrapper_cfg = wrapper
    if not torch_dist.is_initialized():
        _export_launcher_env(launcher)
        kwargs = {}
        if dist_cfg.get('timeout') is not None:  # seconds, as mmengine's dist_cfg
            kwargs['timeout'] = datetime.timedelta(seconds=dist_cfg['timeout'])
        torch_dist.init_process_group(backend='gloo', init_method='env://', rank=int(os.environ['RANK']),
                                      world_size=int(os.environ['WORLD_SIZE']), **kwargs)
    return cfg


def teardown_distributed() -> None:
    """End the process group after a finished run (all ranks), before the interpreter exits.

    Call it after dropping the runner: its DDP wrapper holds the group. With torch 2.13's gloo, a group
    left to the exit has worker threads that release a collective's tensors while Python finalises;
    the thread cannot take the GIL any more and the process aborts ("terminate called without an
    active exception", SIGABRT) after a run that finished and saved everything, and torchrun reports
    the job failed: 3 of 39 launches of the LegoGCD digits job on a 2-core machine. Destroying the group while
    something still holds it was not enough (once in 30 launches of a 2-process DDP script); once
    the last reference goes, its destructor joins the worker threads (0 in 30). The barrier keeps a
    rank from leaving while another still uses the group. A no-op without a group.
    """
    import gc

    import torch.distributed as torch_dist

    if torch_dist.is_available() and torch_dist.is_initialized():
        gc.collect()                            # the runner's reference cycles hold the DDP wrapper
        torch_dist.barrier()
        torch_dist.destroy_process_group()
        gc.collect()
