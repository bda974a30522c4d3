"""Detect rotated objects in one image or a folder of images and write drawn PNGs.

    python demo/image_demo.py IMAGE_OR_FOLDER CONFIG CHECKPOINT [--out-dir outputs] [--score-thr 0.3]
    # an image much larger than the config's test scale (an aerial scene): detect in patches
    python demo/image_demo.py scene.png CONFIG CHECKPOINT --patch-size 1024 --patch-overlap 200

The checkpoint is loaded by ``visiondiv.apis.init_detector``, with the checks of ``tools/test.py``: a
checkpoint of another model, one covering part of the model, or one trained on the config's classes in
another order is refused, naming the file (``--cfg-options remap_classes=True`` permutes a reordered one).
An image shrunk more than 2x by the test pipeline gets a warning that names the image, its size and the
pipeline's scale: detect in patches of about the training scale then. ``--patch-size``, ``--patch-overlap``,
``--img-ratios`` and ``--merge-iou-thr`` are mmrotate 0.x's ``huge_image_demo.py`` arguments (its
``--patch_steps`` is ``size - overlap``: 1024 and 824 there are ``--patch-size 1024 --patch-overlap 200``).
"""
import argparse
import glob
import os
import os.path as osp
from typing import Optional, Sequence

import mmcv
import torch
from mmengine.config import DictAction


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('inputs', help='an image file or a folder of images')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', default='outputs')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--patch-size', type=int, nargs='+',
                        help='detect in windows of this size (px), each at its own scale, and merge')
    parser.add_argument('--patch-overlap', type=int, nargs='+', default=[200],
                        help='overlap of neighbouring windows (px), one value or one per --patch-size')
    parser.add_argument('--img-ratios', type=float, nargs='+', default=[1.0],
                        help='with --patch-size: also detect at these resolutions (windows of size / ratio)')
    parser.add_argument('--merge-iou-thr', type=float, default=0.1,
                        help='with --patch-size: rotated NMS IoU threshold of the merge')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. remap_classes=True')
    args = parser.parse_args(argv)
    check_patch_args(parser, args)
    return args


def check_patch_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse bad patch settings before anything is loaded, naming the argument (``parser.error``: exit 2)."""
    if args.patch_size is None:
        return
    if any(size <= 0 for size in args.patch_size):
        parser.error(f'argument --patch-size: must be positive, got {args.patch_size}')
    if any(gap < 0 for gap in args.patch_overlap):
        parser.error(f'argument --patch-overlap: must be >= 0, got {args.patch_overlap}')
    gaps = args.patch_overlap * len(args.patch_size) if len(args.patch_overlap) == 1 else args.patch_overlap
    if len(gaps) != len(args.patch_size):
        parser.error(f'argument --patch-overlap: give one value or one per --patch-size ({len(args.patch_size)}), '
                     f'got {args.patch_overlap}')
    for size, gap in zip(args.patch_size, gaps):
        if gap >= size:
            parser.error(f'argument --patch-overlap: {gap} must be smaller than --patch-size {size}')
    if any(r <= 0 for r in args.img_ratios):
        parser.error(f'argument --img-ratios: must be positive, got {args.img_ratios}')


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    from mmdet.utils import get_test_pipeline_cfg
    from mmengine.config import Config

    from visiondiv.apis import (inference_detector, inference_detector_by_patches, init_detector,
                                read_image_as_pipeline)
    from visiondiv.registry import VISUALIZERS
    from visiondiv.utils import merge_cfg_options, register_all_modules
    from visiondiv.utils.config_check import check_config
    register_all_modules(init_default_scope=True)
    if osp.isdir(args.inputs):
        files = sorted(f for f in glob.glob(osp.join(args.inputs, '*'))
                       if f.lower().endswith(('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')))
        if not files:
            raise SystemExit(f'no images in {args.inputs}')
    elif osp.isfile(args.inputs):
        files = [args.inputs]
    else:
        raise SystemExit(f'input not found: {args.inputs}')
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    cfg = Config.fromfile(args.config)
    merge_cfg_options(cfg, args.cfg_options)      # checked as every tool checks --cfg-options
    check_config(cfg)        # an unknown type or a misspelt argument is named with its config key
    model = init_detector(cfg, args.checkpoint, device=args.device)
    visualizer = VISUALIZERS.build(model.cfg.visualizer)
    visualizer.dataset_meta = model.dataset_meta
    os.makedirs(args.out_dir, exist_ok=True)
    for path in files:
        if args.patch_size:
            result = inference_detector_by_patches(
                model, path, args.patch_size, args.patch_overlap, dict(type='nms_rotated',
                                                                       iou_threshold=args.merge_iou_thr),
                img_ratios=args.img_ratios)
        else:
            result = inference_detector(model, path)
        # drawn as the pipeline read it (a 12/16-bit image by the loader's bit-depth rule)
        img = mmcv.imconvert(read_image_as_pipeline(path, get_test_pipeline_cfg(model.cfg)), 'bgr', 'rgb')
        out = osp.join(args.out_dir, osp.splitext(osp.basename(path))[0] + '.png')
        visualizer.add_datasample(osp.basename(path), img, result, draw_gt=False, show=False,
                                  pred_score_thr=args.score_thr, out_file=out)
        n = int((result.pred_instances.scores >= args.score_thr).sum())
        print(f'{path}: {n} objects -> {out}')


if __name__ == '__main__':
    main()
