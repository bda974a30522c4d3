"""Measure inference speed (images/s) of a detector config on its test set.

    python tools/analysis_tools/benchmark.py CONFIG [CHECKPOINT] [--num-images 50] [--warmup 5] \
        [--cfg-options k=v ...]

A checkpoint is loaded with the checks of ``tools/test.py`` (``load_checkpoint_checked``): one of another
model, one covering part of the model, or one trained on the test set's classes in another order is refused,
naming the file (a timing of random weights is no timing of the model: their detections, hence the NMS work,
differ).
"""
import argparse
import time
from typing import Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Time ``--num-images`` test images after ``--warmup`` ones and print images/s.

    Args:
        argv (Sequence[str], optional): the arguments. Defaults to None (``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?')
    parser.add_argument('--num-images', type=int, default=50)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. remap_classes=True')
    args = parser.parse_args(argv)
    from visiondiv.utils import class_options, load_checkpoint_checked, merge_cfg_options, register_all_modules
    from visiondiv.utils.config_check import check_config
    register_all_modules(init_default_scope=True)
    cfg = merge_cfg_options(Config.fromfile(args.config), args.cfg_options)
    cfg.test_dataloader.batch_size = 1
    cfg.test_dataloader.num_workers = 0
    cfg.test_dataloader.persistent_workers = False
    check_config(cfg, sections=('test_dataloader',))
    from visiondiv.registry import MODELS
    model = MODELS.build(cfg.model)
    loader = Runner.build_dataloader(cfg.test_dataloader)
    if args.checkpoint:
        classes = (getattr(loader.dataset, 'metainfo', None) or {}).get('classes')
        load_checkpoint_checked(model, args.checkpoint, map_location='cpu', complete=True, classes=classes,
                                classes_source=f'test_dataloader.dataset of {args.config}',
                                **class_options(cfg, args.config))
    model = model.to(args.device).eval()
    done, elapsed = 0, 0.0
    with torch.no_grad():
        for i, data in enumerate(loader):
            if done >= args.num_images:
                break
            if args.device.startswith('cuda'):
                torch.cuda.synchronize()
            start = time.perf_counter()
            model.test_step(data)
            if args.device.startswith('cuda'):
                torch.cuda.synchronize()
            if i >= args.warmup:
                elapsed += time.perf_counter() - start
                done += 1
    if done == 0:
        raise SystemExit(f'the test set has at most {args.warmup} images: nothing left to time after warm-up')
    print(f'{done} images on {args.device} ({torch.get_num_threads()} threads): '
          f'{done / elapsed:.2f} img/s, {1000 * elapsed / done:.1f} ms/img')


if __name__ == '__main__':
    main()
