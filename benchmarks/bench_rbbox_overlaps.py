"""Speed of rbbox_overlaps (envelope pre-filter + exact op on candidate pairs) vs mmcv's dense box_iou_rotated.

The workload is an assigner's: a few ground-truth boxes against many anchors
on a 1024 px image. Both run in the same process on the same boxes; results
are checked equal before timing.

    python benchmarks/bench_rbbox_overlaps.py [--gts 10] [--anchors 1000 10000 100000]
"""
import argparse
import statistics
import time

import torch
from mmcv.ops import box_iou_rotated

from visiondiv.structures.bbox import rbbox_overlaps


def boxes(n: int, gen: torch.Generator, img: float = 1024.0) -> torch.Tensor:
    return torch.cat([torch.rand(n, 2, generator=gen) * img, torch.rand(n, 2, generator=gen) * 120 + 8,
                      (torch.rand(n, 1, generator=gen) - 0.5) * 3.14], 1)


def median_time(fn, repeats: int) -> float:
    fn()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return statistics.median(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--gts', type=int, default=10)
    parser.add_argument('--anchors', type=int, nargs='+', default=[1000, 10000, 100000])
    parser.add_argument('--repeats', type=int, default=5)
    args = parser.parse_args()
    gen = torch.Generator().manual_seed(0)
    print(f'torch {torch.__version__}, threads {torch.get_num_threads()}, {args.gts} gts')
    print(f'{"anchors":>8} {"dense ms":>10} {"ours ms":>10} {"speed x":>8}')
    for n in args.anchors:
        gts, anchors = boxes(args.gts, gen), boxes(n, gen)
        assert torch.equal(rbbox_overlaps(gts, anchors), box_iou_rotated(gts, anchors))
        dense = median_time(lambda: box_iou_rotated(gts, anchors), args.repeats)
        ours = median_time(lambda: rbbox_overlaps(gts, anchors), args.repeats)
        print(f'{n:>8} {dense * 1e3:>10.2f} {ours * 1e3:>10.2f} {dense / ours:>8.2f}', flush=True)


if __name__ == '__main__':
    main()
