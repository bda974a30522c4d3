"""Detect rotated objects in one image or a folder of images and write drawn PNGs.

    python demo/image_demo.py IMAGE_OR_FOLDER CONFIG CHECKPOINT [--out-dir outputs] [--score-thr 0.3]
"""
import argparse
import glob
import os
import os.path as osp
from typing import Optional, Sequence

import mmcv
import torch


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('inputs', help='an image file or a folder of images')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', default='outputs')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args(argv)
    from mmdet.apis import inference_detector, init_detector
    from mmengine.config import Config

    from visiondiv.registry import VISUALIZERS
    from visiondiv.utils import check_config, register_all_modules
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
    check_config(cfg)        # an unknown type or a misspelt argument is named with its config key
    model = init_detector(cfg, args.checkpoint, device=args.device)
    visualizer = VISUALIZERS.build(model.cfg.visualizer)
    visualizer.dataset_meta = model.dataset_meta
    os.makedirs(args.out_dir, exist_ok=True)
    for path in files:
        result = inference_detector(model, path)
        img = mmcv.imconvert(mmcv.imread(path), 'bgr', 'rgb')
        out = osp.join(args.out_dir, osp.splitext(osp.basename(path))[0] + '.png')
        visualizer.add_datasample(osp.basename(path), img, result, draw_gt=False, show=False,
                                  pred_score_thr=args.score_thr, out_file=out)
        n = int((result.pred_instances.scores >= args.score_thr).sum())
        print(f'{path}: {n} objects -> {out}')


if __name__ == '__main__':
    main()
