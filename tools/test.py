"""Test (evaluate) a visiondiv checkpoint from a config (mmdet 3.x's tools/test.py)."""
import os.path as osp

from mmengine.config import Config
from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from visiondiv.utils import register_all_modules
from visiondiv.utils.cli import load_config, make_parser, parse_cli_args
from visiondiv.utils.config_check import check_config
from visiondiv.utils.cli import add_compatibility_check, setup_distributed, teardown_distributed


def parse_args(argv=None):
    parser = make_parser('Test (and evaluate) a visiondiv model', config_help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', type=str, help='dump predictions to a pickle file')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument('--show-dir', help='draw predictions into PNGs under work_dir/timestamp/<show-dir>')
    parser.add_argument('--wait-time', type=float, default=2, help='interval of show (s)')
    return parse_cli_args(parser, argv)


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
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out must be a .pkl or .pickle file, got {args.out}')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    register_all_modules(init_default_scope=False)
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    model = cfg.get('model')
    if isinstance(model, dict) and model.get('teacher_ckpt'):
        # a distillation wrapper tests its student, and the checkpoint under test holds the teacher as well:
        # the teacher's own file (often the placeholder path of the config) is not needed
        print(f'tools/test.py: model.teacher_ckpt={model.teacher_ckpt!r} is not read; the teacher comes from '
              f'{args.checkpoint} (the student is tested)')
        model.teacher_ckpt = None
    # evaluating needs the checkpoint to cover the whole model: a part left random gives a meaningless score
    add_compatibility_check(cfg, complete_checkpoint=True)
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    check_config(cfg, sections=('test_dataloader',))
    setup_distributed(cfg)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    if args.out is not None:
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    runner.test()
    del runner                                  # its DDP wrapper holds the process group
    teardown_distributed()


if __name__ == '__main__':
    main()
