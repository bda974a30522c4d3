"""Train a visiondiv model from a config (mmdet 3.x's tools/train.py)."""
import os.path as osp
import sys

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from visiondiv.engine import find_resumable_checkpoint
from visiondiv.utils import register_all_modules
from visiondiv.utils.cli import load_config, make_parser, parse_cli_args
from visiondiv.utils.config_check import check_config
from visiondiv.utils.cli import add_compatibility_check, setup_distributed, teardown_distributed


def parse_args(argv=None):
    parser = make_parser('Train a visiondiv model', config_help='train config file path')
    parser.add_argument('--amp', action='store_true', default=False,
                        help='enable automatic-mixed-precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate with the total batch size')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from the given checkpoint, or from the latest one in work_dir')
    return parse_cli_args(parser, argv)


def build_config(args) -> Config:
    cfg = load_config(args)
    if args.amp:
        import torch
        if not torch.cuda.is_available():
            raise RuntimeError('--amp needs a GPU: mmengine\'s AmpOptimWrapper does not run on the CPU '
                               '(the losses themselves accept fp16/bf16 input)')
        if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print('AMP training is already enabled in the config', file=sys.stderr)
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise RuntimeError(f"{args.config}: --auto-scale-lr needs 'auto_scale_lr.base_batch_size' "
                               'in the config')
        cfg.auto_scale_lr.enable = True
    # resume: an explicit checkpoint > the latest intact one in work_dir > load_from's weights (fine-tune)
    if args.resume is not None and args.resume != 'auto':
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume checkpoint not found: {args.resume}')
        cfg.resume, cfg.load_from = True, args.resume
    elif args.resume == 'auto' or (cfg.get('resume', False) and not cfg.get('load_from')):
        resume_from = find_resumable_checkpoint(cfg.work_dir)
        if resume_from is not None:
            print_log(f'resuming from {resume_from}', logger='current')
            cfg.resume, cfg.load_from = True, resume_from
        else:
            # mmengine would start from scratch with load_from dropped: a fine-tune silently lost its weights
            load_from = cfg.get('load_from')
            print_log(f'no checkpoint in {cfg.work_dir} to resume; '
                      + (f'loading weights from {load_from}' if load_from else 'training from scratch'),
                      logger='current')
            cfg.resume = False
    # resuming needs the run's own checkpoint; fine-tuning needs only most of the model to match
    add_compatibility_check(cfg, complete_checkpoint=bool(cfg.get('resume', False)))
    return cfg


def main(argv=None):
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = build_config(args)
    check_config(cfg, sections=('train_dataloader', 'val_dataloader'))
    setup_distributed(cfg)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    runner.train()
    del runner                                  # its DDP wrapper holds the process group
    teardown_distributed()


if __name__ == '__main__':
    main()
