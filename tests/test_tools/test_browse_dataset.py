"""tools/analysis_tools/browse_dataset.py draws the train pipeline's rotated ground truth into PNGs."""
import cv2
import numpy as np
import pytest
from mmengine.config import Config

from tests.script_loader import ROOT, load_script

CONFIG = f'{ROOT}/configs/kld/rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py'


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('toy_dota')
    load_script('tools', 'data', 'toy_dota.py').generate(str(root), num_train=2, num_val=1, seed=0)
    return str(root) + '/'


def load():
    return load_script('tools', 'analysis_tools', 'browse_dataset.py')


def test_cli_writes_one_png_per_training_image(toy_root, tmp_path):
    out = tmp_path / 'vis'
    load().main([CONFIG, '--output-dir', str(out), '--not-show',
                 '--cfg-options', f'train_dataloader.dataset.data_root={toy_root}'])
    assert sorted(p.name for p in out.iterdir()) == ['P0000.png', 'P0001.png']
    img = cv2.imread(str(out / 'P0000.png'))
    assert img is not None and max(img.shape[:2]) == 384          # the pipeline's Resize, not the file


def test_boxes_are_drawn_where_the_pipeline_puts_them(toy_root, tmp_path):
    """Without the random flip, every ground-truth edge of the drawn PNG is painted in its class colour."""
    from mmengine.registry import DATASETS

    from visiondiv.structures.bbox import rbox2qbox
    tool = load()
    cfg = Config.fromfile(CONFIG)
    cfg.train_dataloader.dataset.data_root = toy_root
    cfg.train_dataloader.dataset.pipeline = [t for t in cfg.train_dataloader.dataset.pipeline
                                             if t.type != 'mmdet.RandomFlip']
    written = tool.browse(cfg, output_dir=str(tmp_path), show=False)
    assert [p.rsplit('/', 1)[-1] for p in written] == ['P0000.png', 'P0001.png']

    sample = DATASETS.build(cfg.train_dataloader.dataset)[0]
    plain = sample['inputs'].permute(1, 2, 0).numpy()[..., ::-1].astype(float)        # RGB
    drawn = cv2.imread(written[0])[..., ::-1].astype(float)
    assert drawn.shape == plain.shape
    gt = sample['data_samples'].gt_instances
    quads = rbox2qbox(gt.bboxes.tensor).reshape(-1, 4, 2).numpy()
    palette = np.array(cfg.metainfo.palette, float)
    assert len(quads) > 0
    painted = []
    for quad, label in zip(quads, gt.labels.tolist()):
        colour = palette[label]
        hits = 0
        for a, b in zip(quad, np.roll(quad, -1, axis=0)):
            x, y = np.round((a + b) / 2).astype(int)
            patch = drawn[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2].reshape(-1, 3)
            before = plain[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2].reshape(-1, 3)
            # the edge's midpoint moved towards the class colour
            hits += np.abs(patch - colour).sum(1).min() < np.abs(before - colour).sum(1).min() - 30
        painted.append(hits)
    # the class label's black box, drawn at the top corner, may hide the midpoints next to it
    assert min(painted) >= 2 and sum(painted) >= 0.75 * 4 * len(quads), painted
    # away from the boxes and their labels the image is unchanged
    assert np.median(np.abs(drawn - plain)) < 2


def test_refusals(tmp_path):
    with pytest.raises(ValueError, match='--output-dir'):
        load().main([CONFIG, '--not-show'])
    with pytest.raises(ValueError, match="'train_dataloader.dataset.data_root' not found"):  # check_config's error
        load().main([CONFIG, '--not-show', '--output-dir', str(tmp_path),
                     '--cfg-options', f'train_dataloader.dataset.data_root={tmp_path}/missing/'])


def test_segmentation_config_is_refused_by_name(tmp_path):
    """The tool draws boxes; a segmentation config fails with the config and dataset named, not deep in mmseg."""
    load_script('tools', 'data', 'toy_shift.py').generate(str(tmp_path / 'shift'), num_train=1, num_test=1,
                                                          shape=(4, 24, 24), seed=0)
    config = f'{ROOT}/configs/sfda/source_unet-gn_600it_toy-shift.py'
    with pytest.raises(ValueError, match=r'source_unet-gn_600it_toy-shift\.py: .*MedicalSliceDataset'):
        load().main([config, '--not-show', '--output-dir', str(tmp_path / 'vis'),
                     '--cfg-options', f'train_dataloader.dataset.data_root={tmp_path}/shift/'])


def test_images_dropped_by_the_filter_are_reported(tmp_path, capsys):
    """The toy config's filter_empty_gt drops an image without objects: the tool says so instead of a silent gap."""
    root = tmp_path / 'toy'
    load_script('tools', 'data', 'toy_dota.py').generate(str(root), num_train=3, num_val=1, seed=0)
    (root / 'train' / 'labelTxt' / 'P0001.txt').write_text('')
    out = tmp_path / 'vis'
    load().main([CONFIG, '--output-dir', str(out), '--not-show',
                 '--cfg-options', f'train_dataloader.dataset.data_root={root}/'])
    assert sorted(p.name for p in out.iterdir()) == ['P0000.png', 'P0002.png']
    err = capsys.readouterr().err
    assert "browse_dataset: 1 of 3 images are not drawn: the dataset's filter_cfg={'filter_empty_gt': True}" in err
    assert 'P0001.png. To draw them: --cfg-options train_dataloader.dataset.filter_cfg.filter_empty_gt=False' in err
    # nothing dropped, nothing said
    load().main([CONFIG, '--output-dir', str(tmp_path / 'all'), '--not-show', '--cfg-options',
                 f'train_dataloader.dataset.data_root={root}/',
                 'train_dataloader.dataset.filter_cfg.filter_empty_gt=False'])
    assert len(list((tmp_path / 'all').iterdir())) == 3 and 'not drawn' not in capsys.readouterr().err
