"""Test (evaluate) a visiondiv checkpoint from a config (mmdet 3.x command line)."""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a visiondiv model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the evaluation metrics')
    parser.add_argument('--out', type=str, help='dump predictions to a pickle file')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument('--show-dir', help='draw predictions into PNGs under work_dir/timestamp/<show-dir>')
    parser.add_argument('--wait-time', type=float, default=2, help='interval of show (s)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. test_evaluator.iou_thrs=[0.5,0.75]')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg: Config, args) -> Config:
    hooks = cfg.get('default_hooks', {})
    if 'visualization' not in hooks:
        raise RuntimeError(f"{args.config}: --show/--show-dir need 'default_hooks.visualization' "
                           "(e.g. dict(type='mmdet.DetVisualizationHook'))")
    vis = hooks['visualization']
    vis['draw'] = True
    if args.show:
        vis['show'] = True
        vis['wait_time'] = args.wait_time
    if args.show_dir:
        vis['test_out_dir'] = args.show_dir
    return cfg


def main(argv=None):
    args = parse_args(argv)
    from visiondiv.utils import apply_cli_args, build_runner, check_config, register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    apply_cli_args(cfg, args.config, args)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    check_config(cfg, sections=('test_dataloader',))
    runner = build_runner(cfg)
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must be a .pkl or .pickle file, got {args.out}')
        from mmengine.evaluator import DumpResults
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    runner.test()


if __name__ == '__main__':
    main()
