"""Speed of visiondiv's ``MidpointOffsetCoder.decode`` against mmrotate 1.x's, on the same deltas.

mmrotate cannot be installed here (its setup fails on Python >= 3.10), so, as in ``bench_eval_map.py``, its
code is read from the PyPI wheel (downloaded once with ``pip download`` into ``--cache-dir``) inside this
benchmark only: the functions ``delta2bbox`` of ``mmrotate/models/task_modules/coders/
delta_midpointoffset_rbbox_coder.py`` and ``qbox2rbox`` of ``mmrotate/structures/bbox/box_converters.py`` (its
per-box ``cv2.minAreaRect`` loop) are taken out of their modules' source and executed on their own (the modules
themselves would register mmrotate's box converters in mmdet's global table). mmrotate's decode is
``delta2bbox`` then ``RotatedBoxes.regularize_boxes(angle_version)``; the same regularisation
(``regularize_rboxes``, vectorised) follows both here. The decoded boxes are compared (max abs difference of
the boxes, and of their corners, which ignores the w/h swap of near-squares) before the times are printed.

    python benchmarks/bench_midpoint_decode.py [--sizes 100 1000 10000] [--repeats 5]
"""
import argparse
import ast
import os.path as osp
import sys
from typing import Callable, Sequence

import cv2
import numpy as np
import torch
from torch import Tensor

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # bench_eval_map.py beside this file
from bench_eval_map import best_time, mmrotate_wheel_sources  # noqa: E402
from visiondiv.models.task_modules.coders import MidpointOffsetCoder  # noqa: E402
from visiondiv.structures.bbox import rbox2qbox, regularize_rboxes  # noqa: E402

MMROTATE_CODER = 'mmrotate/models/task_modules/coders/delta_midpointoffset_rbbox_coder.py'
MMROTATE_CONVERTERS = 'mmrotate/structures/bbox/box_converters.py'
STDS = (1.0, 1.0, 1.0, 1.0, 0.5, 0.5)


def _function(source: str, name: str, namespace: dict, origin: str) -> Callable:
    """Execute the definition of the top-level function ``name`` of ``source`` in ``namespace``."""
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    node.decorator_list = []   # register_box_converter would register into mmdet's table
    exec(compile(ast.Module(body=[node], type_ignores=[]), origin, 'exec'), namespace)
    return namespace[name]


def load_mmrotate_delta2bbox(cache_dir: str) -> Callable:
    """mmrotate 1.0.0rc1's ``delta2bbox`` (with its ``qbox2rbox``), executed from its wheel."""
    wheel, (coder_src, conv_src) = mmrotate_wheel_sources(cache_dir, MMROTATE_CODER, MMROTATE_CONVERTERS)
    ns = dict(cv2=cv2, np=np, torch=torch, Tensor=Tensor, Sequence=Sequence)
    ns['qbox2rbox'] = _function(conv_src, 'qbox2rbox', ns, f'{wheel}/{MMROTATE_CONVERTERS}')
    return _function(coder_src, 'delta2bbox', ns, f'{wheel}/{MMROTATE_CODER}')


def random_input(n: int, seed: int = 0):
    """Proposal-like horizontal boxes and RPN-like deltas (the clamps of da, db and dw, dh are exercised)."""
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 1000
    wh = torch.rand(n, 2, generator=g) * 120 + 8
    deltas = torch.randn(n, 6, generator=g) * torch.tensor([0.2, 0.2, 0.4, 0.4, 0.5, 0.5])
    return torch.cat([xy, xy + wh], 1), deltas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[100, 1000, 10000])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--cache-dir', default=osp.expanduser('~/.cache/visiondiv/wheels'),
                        help='where the mmrotate wheel is downloaded')
    args = parser.parse_args()
    delta2bbox = load_mmrotate_delta2bbox(args.cache_dir)
    coder = MidpointOffsetCoder(angle_version='le90', target_stds=STDS, use_box_type=False)

    def theirs(rois, deltas):
        return regularize_rboxes(delta2bbox(rois, deltas, (0.,) * 6, STDS), 'le90')

    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread(s); best of {args.repeats}')
    print(f'{"boxes":>7} {"mmrotate (ms)":>14} {"visiondiv (ms)":>15} {"speed-up":>9} {"max |diff| box":>15} '
          f'{"max |diff| corners":>19}')
    for n in args.sizes:
        rois, deltas = random_input(n)
        ref, ours = theirs(rois, deltas), coder.decode(rois, deltas)
        box_diff = float((ref - ours).abs().max())
        corner_diff = float((rbox2qbox(ref.double()).view(-1, 4, 2)[:, :, None]
                             - rbox2qbox(ours.double()).view(-1, 4, 2)[:, None]).norm(dim=-1)
                            .min(-1).values.max())
        t_ref = best_time(lambda: theirs(rois, deltas), args.repeats)
        t_ours = best_time(lambda: coder.decode(rois, deltas), args.repeats)
        print(f'{n:>7} {t_ref * 1e3:>14.2f} {t_ours * 1e3:>15.3f} {t_ref / t_ours:>8.1f}x {box_diff:>15.2e} '
              f'{corner_diff:>19.2e}')


if __name__ == '__main__':
    main()
