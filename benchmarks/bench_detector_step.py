"""Cost of a CPU training step of each rotated detector family against Rotated RetinaNet on the same images.

Every model is a toy config (ResNet-18 at quarter width, 3 FPN levels, 3 classes,
the toy schedule's AdamW and gradient clipping); the baseline is the demo's
Rotated RetinaNet + KLD. All see the same batch of random images with random le90
boxes (:func:`bench_train_step.synthetic_batch`). A step is ``model.train_step``
(preprocessing, forward, loss, backward, clipping, optimizer step); after warm-up
the models take turns step by step (:func:`bench_train_step.interleaved_step_times`)
and the median of ``--iters`` steps is reported with its ratio to the baseline.

    python benchmarks/bench_detector_step.py [--iters 10] [--warmup 2] [--threads 2]
"""
import argparse
import logging
import os.path as osp
import statistics
import sys

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # bench_train_step.py beside this file
from bench_train_step import interleaved_step_times, optim_wrapper, synthetic_batch  # noqa: E402
from visiondiv.registry import MODELS  # noqa: E402
from visiondiv.utils import register_all_modules  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
BASELINE = 'Rotated RetinaNet + KLD'
#: the timed toy configs, baseline first
DETECTORS = {
    BASELINE: 'configs/kld/rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py',
    'Rotated FCOS + KLD': 'configs/rotated_fcos/rotated-fcos-le90_r18-tiny_fpn_kld_16e_toy-dota.py',
    'R3Det-tiny + KLD': 'configs/kld/r3det-tiny-oc_r18-tiny_fpn_kld-stable_16e_toy-dota.py',
    'S2ANet + KFIoU': 'configs/kfiou/s2anet-le135_r18-tiny_fpn_kfiou-ln_16e_toy-dota.py',
    'Oriented R-CNN': 'configs/oriented_rcnn/oriented-rcnn-le90_r18-tiny_fpn_16e_toy-dota.py',
    'Rotated Faster R-CNN': 'configs/rotated_faster_rcnn/rotated-faster-rcnn-le90_r18-tiny_fpn_16e_toy-dota.py',
    'RTMDet-R-tiny + KLD': 'configs/rotated_rtmdet/rotated_rtmdet_tiny_kld_16e_toy-dota.py',
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--iters', type=int, default=10, help='timed steps per model (the median is reported)')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--batch', type=int, default=4, help='the toy configs use 4')
    parser.add_argument('--size', type=int, default=384, help='image side; the toy pipeline resizes to 384')
    parser.add_argument('--objects', type=int, default=12, help='GT boxes per image')
    parser.add_argument('--threads', type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument('--only', nargs='+', default=None, choices=list(DETECTORS), metavar='NAME',
                        help='time these families (the baseline is always timed)')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    register_all_modules(init_default_scope=True)
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    names = [BASELINE] + [n for n in DETECTORS if n != BASELINE and (args.only is None or n in args.only)]
    print(f'torch {torch.__version__}, cpu, threads {torch.get_num_threads()}, batch {args.batch} x {args.size}px, '
          f'{args.objects} GT/image, median of {args.iters} steps after {args.warmup} warm-up')
    data, _ = synthetic_batch(args.batch, args.size, args.objects, num_classes=3)
    runs = {}
    for name in names:
        cfg = Config.fromfile(osp.join(ROOT, DETECTORS[name]))
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        model.init_weights()
        runs[name] = (model, optim_wrapper(model, cfg), data)
    times = interleaved_step_times(runs, args.warmup, args.iters, sync=lambda: None)
    base = statistics.median(times[BASELINE])
    for name, t in times.items():
        med = statistics.median(t)
        print(f'{name:<28} {med * 1e3:>9.1f} ms/step  (min {min(t) * 1e3:.1f}, max {max(t) * 1e3:.1f})  '
              f'{med / base:.2f}x {BASELINE}')


if __name__ == '__main__':
    main()
