"""Cost of a rotated RetinaNet training step against mmdet's horizontal RetinaNet on the same images.

The rotated models are the toy configs (KLD and smooth-L1). The horizontal
model is built here from the same backbone and neck, with mmdet's RetinaHead
(focal + L1 loss, ``DeltaXYWHBBoxCoder``, ``BboxOverlaps2D`` in the same
``MaxIoUAssigner``) and the same anchors per location (octave base scale,
scales per octave, ratios, strides). Both see the same batch: random images
with random le90 boxes as rotated GT, and their horizontal envelopes as
horizontal GT. A step is ``model.train_step`` (preprocessing, forward, loss,
backward, gradient clipping and the AdamW step of the toy schedule); after
warm-up, the models take turns step by step and the median of ``--iters``
steps of each is reported.

    python benchmarks/bench_train_step.py [--iters 10] [--warmup 3] [--device cpu] [--profile]
"""
import argparse
import copy
import logging
import os.path as osp
import statistics
import time
from typing import Callable, Dict, List

import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper
from mmengine.structures import InstanceData

from visiondiv.registry import MODELS
from visiondiv.structures.bbox import RotatedBoxes, rbox2hbox
from visiondiv.utils import register_all_modules

HORIZONTAL = 'horizontal (mmdet RetinaNet)'
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
ROTATED = {
    'KLD': 'configs/kld/rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py',
    'smooth-L1': 'configs/rotated_retinanet/rotated-retinanet-rbox-le90_r18-tiny_fpn_16e_toy-dota.py',
}


def horizontal_model_cfg(rotated: Config) -> dict:
    """mmdet's RetinaNet with the rotated model's backbone, neck, preprocessor, anchors and assigner thresholds."""
    model = copy.deepcopy(rotated.model.to_dict())
    head, anchors = model['bbox_head'], model['bbox_head']['anchor_generator']
    model['bbox_head'] = dict(
        type='mmdet.RetinaHead', num_classes=head['num_classes'], in_channels=head['in_channels'],
        stacked_convs=head['stacked_convs'], feat_channels=head['feat_channels'],
        anchor_generator=dict(type='mmdet.AnchorGenerator', octave_base_scale=anchors['octave_base_scale'],
                              scales_per_octave=anchors['scales_per_octave'], ratios=anchors['ratios'],
                              strides=anchors['strides']),
        bbox_coder=dict(type='mmdet.DeltaXYWHBBoxCoder', target_means=[.0, .0, .0, .0],
                        target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=head['loss_cls'], loss_bbox=dict(type='mmdet.L1Loss', loss_weight=1.0))
    model['train_cfg']['assigner']['iou_calculator'] = dict(type='mmdet.BboxOverlaps2D')
    return model


def synthetic_batch(batch: int, size: int, objects: int, num_classes: int, seed: int = 0):
    """Random uint8 images and random le90 boxes (aspect 1-6, like ships and planes); both GT forms."""
    gen = torch.Generator().manual_seed(seed)
    inputs, rotated, horizontal = [], [], []
    for _ in range(batch):
        inputs.append(torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=gen))
        w = torch.rand(objects, generator=gen) * 70 + 12
        h = w / (torch.rand(objects, generator=gen) * 5 + 1)
        ctr = torch.rand(objects, 2, generator=gen) * (size - 80) + 40
        theta = (torch.rand(objects, generator=gen) - 0.5) * np.pi
        boxes = torch.cat([ctr, w[:, None], h[:, None], theta[:, None]], 1)
        labels = torch.randint(0, num_classes, (objects,), generator=gen)
        meta = dict(img_shape=(size, size), ori_shape=(size, size), scale_factor=(1.0, 1.0))
        for out, gt in ((rotated, RotatedBoxes(boxes)), (horizontal, HorizontalBoxes(rbox2hbox(boxes)))):
            sample = DetDataSample(metainfo=meta)
            sample.gt_instances = InstanceData(bboxes=gt, labels=labels)
            out.append(sample)
    return dict(inputs=inputs, data_samples=rotated), dict(inputs=list(inputs), data_samples=horizontal)


def optim_wrapper(model: torch.nn.Module, cfg: Config) -> OptimWrapper:
    """The toy schedule's optimizer (AdamW) and gradient clipping."""
    opt = cfg.optim_wrapper.optimizer
    optimizer = torch.optim.AdamW(model.parameters(), lr=opt.lr, weight_decay=opt.weight_decay)
    return OptimWrapper(optimizer, clip_grad=dict(cfg.optim_wrapper.clip_grad))


def interleaved_step_times(runs: Dict[str, tuple], warmup: int, iters: int,
                           sync: Callable[[], None]) -> Dict[str, List[float]]:
    """Seconds per ``train_step`` of each (model, optim wrapper, data), the models taking turns step by step.

    Taking turns spreads a busy machine's slow spells over all models alike,
    so their ratio stays meaningful even when the times themselves drift.
    """
    for model, wrapper, data in runs.values():
        model.train()
        for _ in range(warmup):
            model.train_step(data, wrapper)
    times: Dict[str, List[float]] = {name: [] for name in runs}
    for _ in range(iters):
        for name, (model, wrapper, data) in runs.items():
            sync()
            start = time.perf_counter()
            losses = model.train_step(data, wrapper)
            sync()
            times[name].append(time.perf_counter() - start)
            total = sum(v for k, v in losses.items() if 'loss' in k)
            if not torch.isfinite(total):
                raise RuntimeError(f'{name}: non-finite loss {losses}')
    return times


def profile_step(model: torch.nn.Module, wrapper: OptimWrapper, data: dict, rows: int = 25) -> None:
    """torch.profiler table of one step (after the timed ones), by self CPU time."""
    from torch.profiler import ProfilerActivity, profile, record_function
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    with profile(activities=activities) as prof:
        with record_function('train_step'):
            model.train_step(data, wrapper)
    print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--iters', type=int, default=10, help='timed steps (the median is reported)')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--batch', type=int, default=4, help='the toy configs use 4')
    parser.add_argument('--size', type=int, default=384, help='image side; the toy pipeline resizes to 384')
    parser.add_argument('--objects', type=int, default=12, help='GT boxes per image')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument('--profile', action='store_true', help='print a torch.profiler table per model')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    register_all_modules(init_default_scope=True)
    MMLogger.get_current_instance().setLevel(logging.WARNING)   # init_weights logs every parameter
    torch.manual_seed(0)
    device = torch.device(args.device)
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == 'cuda' else (lambda: None)
    print(f'torch {torch.__version__}, {args.device}, threads {torch.get_num_threads()}, batch {args.batch} x '
          f'{args.size}px, {args.objects} GT/image, median of {args.iters} steps after {args.warmup} warm-up')
    runs = {}
    for name, path in ROTATED.items():
        cfg = Config.fromfile(osp.join(ROOT, path))
        rot_data, hor_data = synthetic_batch(args.batch, args.size, args.objects, cfg.model.bbox_head.num_classes)
        if not runs:   # one horizontal model serves both rotated configs (same backbone, neck and anchors)
            runs[HORIZONTAL] = (horizontal_model_cfg(cfg), hor_data, cfg)
        runs[name] = (cfg.model.to_dict(), rot_data, cfg)
    for name, (model_cfg, data, cfg) in runs.items():
        torch.manual_seed(0)
        model = MODELS.build(model_cfg)
        model.init_weights()
        model.to(device)
        runs[name] = (model, optim_wrapper(model, cfg), data)
    times = interleaved_step_times(runs, args.warmup, args.iters, sync)
    median = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        print(f'{name:<30} {median[name] * 1e3:>9.1f} ms/step  (min {min(t) * 1e3:.1f}, max {max(t) * 1e3:.1f})')
    for name in ROTATED:
        print(f'ratio {name} / horizontal: {median[name] / median[HORIZONTAL]:.2f}x (goal <= 1.15x)')
    if args.profile:
        for name, (model, wrapper, data) in runs.items():
            print(f'\n--- {name}')
            profile_step(model, wrapper, data)


if __name__ == '__main__':
    main()
