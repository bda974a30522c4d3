"""Draw the training set of a config as the model sees it: the train pipeline's images with their
rotated ground truth (mmrotate's tool, drawn by the config's visualizer, ``RotLocalVisualizer``).

    python tools/analysis_tools/browse_dataset.py CONFIG --output-dir vis --not-show
    python tools/analysis_tools/browse_dataset.py CONFIG --show-interval 1 \
        --cfg-options train_dataloader.dataset.data_root=data/mine/
"""
import argparse
import datetime
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.dataset import BaseDataset
from mmengine.registry import DATASETS, VISUALIZERS, init_default_scope
from mmengine.utils import ProgressBar

from visiondiv.utils import merge_cfg_options


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Browse a dataset')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--output-dir', default=None, type=str, help='write the drawn images here (PNG)')
    parser.add_argument('--not-show', default=False, action='store_true', help='do not open a window')
    parser.add_argument('--show-interval', type=float, default=2, help='seconds each image is shown')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. train_dataloader.dataset.data_root=data/mine/')
    return parser.parse_args(argv)


def browse(cfg: Config, output_dir: Optional[str] = None, show: bool = True, show_interval: float = 2.0) -> List[str]:
    """Run ``cfg.train_dataloader.dataset`` through its pipeline and draw every sample's ground truth.

    The images the dataset's ``filter_cfg`` drops (e.g. ``filter_empty_gt``: images without objects) are not
    drawn, as they are not trained on; their count and first names are printed to stderr.

    Args:
        cfg: the loaded config (``--cfg-options`` already merged).
        output_dir: folder for the drawn images, one ``<image name>.png`` per sample; None writes nothing.
        show: open a window per image (needs a display).
        show_interval: seconds each image stays in the window.

    Returns:
        The paths of the written images.
    """
    from visiondiv.utils import register_all_modules
    from visiondiv.utils.config_check import check_config
    if output_dir is None and not show:
        raise ValueError('nothing to do: give --output-dir, or drop --not-show to see the images')
    register_all_modules(init_default_scope=False)
    # build as mmengine's Runner does: unprefixed names resolve under the config's scope
    init_default_scope(cfg.get('default_scope', 'visiondiv'))
    check_config(cfg, sections=('train_dataloader',))
    dataset = build_reporting_filtered(cfg.train_dataloader.dataset)
    # the drawn images go to output_dir only: no log backends (they would need a save_dir); a fresh
    # instance name, or mmengine would hand back an earlier visualizer with its old settings
    visualizer = VISUALIZERS.build(dict(cfg.visualizer, vis_backends=None,
                                        name=f'browse_dataset-{datetime.datetime.now()}'))
    visualizer.dataset_meta = dataset.metainfo
    if output_dir is not None:
        os.makedirs(output_dir, exist_ok=True)

    written = []
    progress = ProgressBar(len(dataset))
    for i in range(len(dataset)):
        item = dataset[i]
        img = item['inputs'].permute(1, 2, 0).numpy()[..., ::-1]  # CHW BGR tensor -> HWC RGB
        data_sample = item['data_samples']
        if 'gt_instances' not in data_sample:
            raise ValueError(f'{cfg.filename}: browse_dataset draws detection ground truth (gt_instances), but '
                             f'{type(dataset).__name__} gives {type(data_sample).__name__} samples')
        name = osp.splitext(osp.basename(data_sample.img_path))[0]
        out_file = osp.join(output_dir, f'{name}.png') if output_dir is not None else None
        visualizer.add_datasample(name, img, data_sample, draw_pred=False, show=show, wait_time=show_interval,
                                  out_file=out_file)
        if out_file is not None:
            written.append(out_file)
        progress.update()
    return written


def build_reporting_filtered(dataset_cfg: dict):
    """Build the dataset; print to stderr how many of its images ``filter_data`` drops, and the first names.

    The annotations are read once: ``filter_data`` of an mmengine ``BaseDataset`` is wrapped to see the list
    before filtering. Other datasets (wrappers such as ``ConcatDataset``) are built as they are.

    Args:
        dataset_cfg (dict): the dataset's config (``train_dataloader.dataset``).

    Returns:
        the built, fully initialised dataset.
    """
    dataset_cls = dataset_cfg.get('type')
    if isinstance(dataset_cls, str):
        with DATASETS.switch_scope_and_registry(None) as registry:     # the default scope's node, as build
            dataset_cls = registry.get(dataset_cls)
    if (not isinstance(dataset_cls, type) or not issubclass(dataset_cls, BaseDataset)
            or dataset_cfg.get('lazy_init', False)):
        return DATASETS.build(dataset_cfg)
    dataset = DATASETS.build(dict(dataset_cfg, lazy_init=True))
    dropped, total = [], []
    filter_data = dataset.filter_data

    def filter_and_record() -> List[dict]:
        kept = filter_data()
        kept_ids = {id(info) for info in kept}
        total.append(len(dataset.data_list))
        dropped.extend(info for info in dataset.data_list if id(info) not in kept_ids)
        return kept

    dataset.filter_data = filter_and_record
    dataset.full_init()
    del dataset.filter_data
    if dropped:
        names = [osp.basename(str(info.get('img_path', info.get('img_id', '?')))) for info in dropped]
        more = f' and {len(names) - 5} more' if len(names) > 5 else ''
        print(f'browse_dataset: {len(dropped)} of {total[0]} images are not drawn: the dataset\'s filter_cfg='
              f'{dataset.filter_cfg} drops them (e.g. filter_empty_gt: images without objects), as training does: '
              f'{", ".join(names[:5])}{more}. To draw them: --cfg-options '
              'train_dataloader.dataset.filter_cfg.filter_empty_gt=False', file=sys.stderr)
    return dataset


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    cfg = merge_cfg_options(Config.fromfile(args.config), args.cfg_options)
    browse(cfg, args.output_dir, show=not args.not_show, show_interval=args.show_interval)


if __name__ == '__main__':
    main()
