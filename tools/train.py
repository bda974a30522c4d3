"""Train a visiondiv model from a config (mmdet 3.x command line)."""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a visiondiv model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--amp', action='store_true', default=False,
                        help='enable automatic-mixed-precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate with the total batch size')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from the given checkpoint, or from the latest one in work_dir')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. optim_wrapper.optimizer.lr=0.01')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_config(args) -> Config:
    from visiondiv.utils import apply_cli_args
    cfg = Config.fromfile(args.config)
    apply_cli_args(cfg, args.config, args)
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
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume checkpoint not found: {args.resume}')
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def main(argv=None):
    args = parse_args(argv)
    from visiondiv.utils import build_runner, check_config, register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = build_config(args)
    check_config(cfg, sections=('train_dataloader', 'val_dataloader'))
    runner = build_runner(cfg)
    runner.train()


if __name__ == '__main__':
    main()
