"""visiondiv.apis.init_detector loads with tools/test.py's checks; inference warns about shrunk inputs and
detects by patches (issue 21, items 1, 2 and 5)."""
import os.path as osp
import warnings

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData

from tests.script_loader import ROOT
from tests.test_apis.blob_detector import blob_image, save_blob_checkpoint, write_blob_config
from visiondiv.apis import (inference_detector, inference_detector_by_patches, init_detector, merge_rotated_by_nms,
                            patch_windows, read_image_as_pipeline)
from visiondiv.registry import MODELS
from visiondiv.structures.bbox import RotatedBoxes
from visiondiv.utils.checkpoint import CheckpointMismatchError

RETINA = osp.join(ROOT, 'configs', 'kld', 'rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py')
FCOS = osp.join(ROOT, 'configs', 'rotated_fcos', 'rotated-fcos-le90_r18-tiny_fpn_kld_16e_toy-dota.py')
TOY = ('ship', 'tank', 'plane')
#: an untrained head scores ~0.01: keep every prediction to compare them
ALL = {'model.test_cfg.score_thr': 0.0, 'model.test_cfg.nms_pre': 100, 'model.test_cfg.max_per_img': 50}


def save_model(path, config, classes=TOY, seed=0):
    torch.manual_seed(seed)
    model = MODELS.build(Config.fromfile(config).model)
    meta = dict(dataset_meta=dict(classes=classes)) if classes else {}
    torch.save(dict(meta=meta, state_dict=model.state_dict()), str(path))
    return str(path)


@pytest.fixture(scope='module')
def image(tmp_path_factory):
    import numpy as np
    import cv2
    path = tmp_path_factory.mktemp('img') / 'scene.png'
    rng = np.random.default_rng(0)
    cv2.imwrite(str(path), rng.integers(0, 255, (160, 200, 3), dtype=np.uint8))
    return str(path)


def test_checkpoint_of_another_detector_is_refused(tmp_path):
    """mmdet's init_detector loaded the toy FCOS into the toy RetinaNet with a log line and drew boxes from
    an untrained head."""
    fcos = save_model(tmp_path / 'fcos.pth', FCOS)
    with pytest.raises(CheckpointMismatchError, match=f'{fcos}: does not cover the whole model.* missing from the '
                                                      'checkpoint .*bbox_head.retina_cls.weight'):
        init_detector(RETINA, fcos)


def test_predictions_and_dataset_meta_are_mmdets(tmp_path, image):
    from mmdet.apis import inference_detector as mmdet_inference, init_detector as mmdet_init
    ckpt = save_model(tmp_path / 'retina.pth', RETINA)
    ours = init_detector(RETINA, ckpt, cfg_options=ALL)
    assert ours.dataset_meta['classes'] == TOY and len(ours.dataset_meta['palette']) == 3
    cfg = Config.fromfile(RETINA)
    cfg.merge_from_dict(ALL)
    theirs = mmdet_init(cfg, ckpt, device='cpu')
    a, b = inference_detector(ours, image).pred_instances, mmdet_inference(theirs, image).pred_instances
    assert len(a) > 0
    for key in ('bboxes', 'scores', 'labels'):
        assert torch.equal(a[key], b[key])


def test_reordered_classes_are_refused_then_remapped(tmp_path, image):
    ckpt = save_model(tmp_path / 'retina.pth', RETINA)
    order = ['tank', 'plane', 'ship']
    reorder = {'test_dataloader.dataset.metainfo.classes': order}
    with pytest.raises(CheckpointMismatchError) as err:
        init_detector(RETINA, ckpt, cfg_options=reorder)
    assert str(err.value).startswith(
        f"{ckpt}: trained on the classes ('ship', 'tank', 'plane') (its meta.dataset_meta.classes) but "
        f"test_dataloader.dataset of {RETINA} has ('tank', 'plane', 'ship'): the same names in another order")
    assert 'remap_classes=True' in str(err.value)
    own = init_detector(RETINA, ckpt, cfg_options=ALL)
    remapped = init_detector(RETINA, ckpt, cfg_options={**ALL, **reorder, 'remap_classes': True})
    assert remapped.dataset_meta['classes'] == tuple(order)
    a, b = inference_detector(own, image).pred_instances, inference_detector(remapped, image).pred_instances
    assert torch.equal(a.scores, b.scores) and torch.equal(a.bboxes, b.bboxes)
    assert [TOY[i] for i in a.labels] == [order[i] for i in b.labels]


def test_other_names_are_refused_unless_ignored(tmp_path):
    ckpt = save_model(tmp_path / 'retina.pth', RETINA, classes=('car', 'truck', 'bus'))
    with pytest.raises(CheckpointMismatchError, match=r"other names\. Use a checkpoint trained on these classes, "
                                                      r"or set ignore_checkpoint_classes=True"):
        init_detector(RETINA, ckpt)
    model = init_detector(RETINA, ckpt, cfg_options={'ignore_checkpoint_classes': True})
    assert model.dataset_meta['classes'] == TOY


def test_shrunk_image_is_warned_and_patches_find_its_objects(tmp_path):
    model = init_detector(write_blob_config(tmp_path / 'blob.py', scale=100), save_blob_checkpoint(tmp_path / 'b.pth'))
    path = str(tmp_path / 'scene.png')
    centres = blob_image(path)                           # 400 px, twelve 12 px squares; the detector needs 6 px
    with pytest.warns(UserWarning, match=r'scene.png: the 400x400 image is shrunk 4.0x to 100x100 by the test '
                                         r'pipeline \(mmdet.Resize scale=\(100, 100\)\)'):
        whole = inference_detector(model, path)
    assert len(whole.pred_instances) == 0                # 3 px squares: all missed
    with warnings.catch_warnings():
        warnings.simplefilter('error')                   # patches at the detector's scale: no warning
        patched = inference_detector_by_patches(model, path, patch_size=100, patch_overlap=20)
    boxes = patched.pred_instances.bboxes
    assert len(boxes) == len(centres)                    # found once each, though many lie in two patches
    found = sorted((round(float(x)), round(float(y))) for x, y in boxes[:, :2])
    assert found == sorted(centres)
    assert torch.allclose(boxes[:, 2:4], torch.full((len(centres), 2), 12.0))
    assert patched.metainfo['ori_shape'] == (400, 400)


def test_merge_keeps_classes_apart():
    """mmcv's nms_rotated(..., labels=...) suppresses across classes on the CPU."""
    boxes = torch.tensor([[10., 10, 8, 4, 0.1], [10.5, 10, 8, 4, 0.1], [11, 10, 8, 4, 0.1], [40, 40, 5, 5, 0]])
    instances = InstanceData(bboxes=RotatedBoxes(boxes.half()), scores=torch.tensor([0.5, 0.9, 0.8, 0.7]).half(),
                             labels=torch.tensor([0, 1, 0, 0]))
    kept = merge_rotated_by_nms(instances, 0.1)
    assert kept.scores.tolist() == pytest.approx([0.9, 0.8, 0.7], abs=1e-3)
    assert kept.labels.tolist() == [1, 0, 0]


def test_bit_depth_loader_configs_run_on_arrays_and_patches(tmp_path):
    """A config whose loader is LoadImageFromFileBitDepth (the DOTA configs'): mmdet's array path kept its
    bit_depth argument and failed to build, and patch inference read a 12-bit scene with mmcv.imread (v >> 8:
    nearly black, nothing found)."""
    cfg = write_blob_config(tmp_path / 'blob.py', scale=400,
                            loader="dict(type='LoadImageFromFileBitDepth', bit_depth='auto')")
    model = init_detector(cfg, save_blob_checkpoint(tmp_path / 'b.pth'))
    path = str(tmp_path / 'scene12.png')
    centres = blob_image(path, bits=12)
    whole = inference_detector(model, path)                          # the file loader's rule: 4095 >> 4 = 255
    assert len(whole.pred_instances) == len(centres)
    array = read_image_as_pipeline(path, model.cfg.test_dataloader.dataset.pipeline)
    assert array.dtype == np.uint8 and array.max() == 255 and array.min() == 20
    assert len(inference_detector(model, array).pred_instances) == len(centres)
    patched = inference_detector_by_patches(model, path, patch_size=200, patch_overlap=40)
    found = sorted((round(float(x)), round(float(y))) for x, y in patched.pred_instances.bboxes[:, :2])
    assert found == sorted(centres)


def test_init_detector_checks_cfg_options_as_the_tools_do(tmp_path):
    """cfg_options went through Config.merge_from_dict unchecked; now through the tools' type check."""
    cfg = write_blob_config(tmp_path / 'blob.py')
    with pytest.raises(TypeError, match=r"--cfg-options model.data_preprocessor.pad_size_divisor='abc': expected"):
        init_detector(cfg, save_blob_checkpoint(tmp_path / 'b.pth'),
                      cfg_options={'model.data_preprocessor.pad_size_divisor': 'abc'})


def starts(windows, axis):
    return sorted({int(v) for v in windows[:, axis]})


def test_patch_grid_by_hand():
    # a 1000 px side, 400 px windows overlapping by 100: every 300 px, the last flush with the border
    windows = patch_windows((1000, 1000), 400, 100)
    assert starts(windows, 0) == [0, 300, 600] and starts(windows, 1) == [0, 300, 600] and len(windows) == 9
    assert (windows[:, 2] - windows[:, 0] == 400).all() and windows[:, 2].max() == 1000
    # 1000 high, 700 wide: 2 columns (0, 300 ending at 700); no overlap: 0, 400, then 600 (moved back to end at 1000)
    windows = patch_windows((1000, 700), 400, 100)
    assert starts(windows, 0) == [0, 300] and starts(windows, 1) == [0, 300, 600]
    assert starts(patch_windows((1000, 1000), 400, 0), 0) == [0, 400, 600]
    # 1001 px: 0, 300, 600 and 601 (flush)
    assert starts(patch_windows((1001, 1001), 400, 100), 0) == [0, 300, 600, 601]
    # a side shorter than the window: one window at 0 (padded)
    assert starts(patch_windows((250, 1000), 400, 100), 1) == [0]
    # the windows cover every pixel
    for shape in ((1000, 1000), (1001, 733), (250, 1000)):
        covered = np.zeros(shape, bool)
        for x1, y1, x2, y2 in patch_windows(shape, 400, 100):
            covered[y1:y2, x1:x2] = True
        assert covered.all()


@pytest.mark.parametrize('kwargs,message', [
    (dict(patch_size=400, patch_overlap=400), 'patch_overlap 400 must be smaller than patch_size 400'),
    (dict(patch_size=400, patch_overlap=500), 'patch_overlap 500 must be smaller than patch_size 400'),
    (dict(patch_size=0, patch_overlap=0), 'patch_size must be positive'),
    (dict(patch_size=-400, patch_overlap=100), 'patch_size must be positive'),
    (dict(patch_size=400.5, patch_overlap=100), 'patch_size must be positive whole pixels'),
    (dict(patch_size=400, patch_overlap=-1), 'patch_overlap must be non-negative'),
    (dict(patch_size=[400, 200], patch_overlap=[100, 50, 10]), 'one per patch_size'),
    (dict(patch_size=400, patch_overlap=100, img_ratios=(1.0, 0.0)), 'img_ratios must be positive'),
])
def test_bad_patch_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        patch_windows((1000, 1000), **kwargs)


BLOBS = [(400, 150),     # cut by the first column's right edge (x = 400): a 6 px piece there, whole in the second
         (300, 520),     # cut by the second column's left edge (x = 300)
         (700, 700),     # on the corner of four windows
         (650, 398), (100, 100), (850, 920), (602, 303), (200, 860)]


def test_patches_give_the_detections_of_one_full_pass(tmp_path, monkeypatch):
    # no resize (scale_factor 1): the stub finds the same squares in a patch as in the whole image
    cfg = write_blob_config(tmp_path / 'blob.py', resize="dict(type='mmdet.Resize', scale_factor=1.0)")
    model = init_detector(cfg, save_blob_checkpoint(tmp_path / 'b.pth'))
    path = str(tmp_path / 'big.png')
    blob_image(path, size=1000, side=12, centres=BLOBS)
    whole = inference_detector(model, path).pred_instances
    assert len(whole) == len(BLOBS)
    batches = []
    test_step = model.test_step
    monkeypatch.setattr(model, 'test_step', lambda data: batches.append(len(data['inputs'])) or test_step(data))
    patched = inference_detector_by_patches(model, path, patch_size=400, patch_overlap=100, batch_size=4)
    assert batches == [4, 4, 1]                                      # 9 windows, batched
    merged = patched.pred_instances

    def rows(instances):
        boxes = instances.bboxes.tensor if hasattr(instances.bboxes, 'tensor') else instances.bboxes
        table = torch.cat([boxes, instances.scores[:, None], instances.labels[:, None].float()], 1)
        return table[table[:, 0].argsort()]

    torch.testing.assert_close(rows(merged), rows(whole))
    # without the merge the cut squares are there more than once (whole and in pieces): the merge removed them
    raw = inference_detector_by_patches(model, path, patch_size=400, patch_overlap=100,
                                        nms_cfg=dict(type='nms_rotated', iou_threshold=1.0)).pred_instances
    assert len(raw) > len(whole) + 4
    assert (raw.bboxes[:, 2] * raw.bboxes[:, 3] < 144).sum() >= 4             # the pieces
    # one patch per pass gives the same
    batches.clear()
    single = inference_detector_by_patches(model, path, patch_size=400, patch_overlap=100, batch_size=1)
    assert batches == [1] * 9
    torch.testing.assert_close(rows(single.pred_instances), rows(whole))
    assert patched.metainfo['ori_shape'] == (1000, 1000) and patched.metainfo['img_path'] == osp.abspath(path)
    with pytest.raises(ValueError, match='batch_size must be a positive int'):
        inference_detector_by_patches(model, path, patch_size=400, patch_overlap=100, batch_size=0)
    with pytest.raises(ValueError, match='patch_overlap 400 must be smaller than patch_size 400'):
        inference_detector_by_patches(model, path, patch_size=400, patch_overlap=400)


def test_unpadded_patches_are_batched_by_their_own_shape(tmp_path, monkeypatch):
    """padding_value=None: a window reaching past the image gives a smaller patch; a batch holds patches of one
    shape only (mmdet would zero-pad the others), and the detections are those of one patch per pass."""
    import visiondiv.apis.inference as inference
    cfg = write_blob_config(tmp_path / 'blob.py', resize="dict(type='mmdet.Resize', scale_factor=1.0)")
    model = init_detector(cfg, save_blob_checkpoint(tmp_path / 'b.pth'))
    path = str(tmp_path / 'big.png')
    blob_image(path, size=1000, side=12, centres=BLOBS)
    # 400 px windows; three reach past the 1000 px image: patches 400x300 (w x h), 300x400, 300x300
    windows = np.array([[0, 0, 400, 400], [300, 300, 700, 700], [0, 700, 400, 1100], [700, 0, 1100, 400],
                        [700, 700, 1100, 1100], [600, 0, 1000, 400]])
    monkeypatch.setattr(inference, 'patch_windows', lambda *args, **kw: windows)
    shapes = []
    test_step = model.test_step
    monkeypatch.setattr(model, 'test_step', lambda data: shapes.append(
        sorted({tuple(i.shape[-2:]) for i in data['inputs']})) or test_step(data))
    batched = inference_detector_by_patches(model, path, patch_size=400, patch_overlap=100, padding_value=None,
                                            batch_size=4)
    assert all(len(s) == 1 for s in shapes)
    assert sorted(s[0] for s in shapes) == [(300, 300), (300, 400), (400, 300), (400, 400)]
    shapes.clear()
    single = inference_detector_by_patches(model, path, patch_size=400, patch_overlap=100, padding_value=None,
                                           batch_size=1)
    assert len(shapes) == len(windows)
    for key in ('bboxes', 'scores', 'labels'):
        torch.testing.assert_close(getattr(batched.pred_instances, key), getattr(single.pred_instances, key))


def test_a_test_dataset_that_cannot_be_built_is_warned_about():
    """Its classes cannot be read, so the checkpoint's are not checked: said, not silent."""
    from visiondiv.apis.inference import _test_metainfo
    cfg = Config(dict(test_dataloader=dict(dataset=dict(type='NoSuchDataset', data_root='x'))))
    with pytest.warns(UserWarning, match=r"^my.py: test_dataloader.dataset \(NoSuchDataset\) could not be built to "
                                         r"read its classes \(KeyError: .*the checkpoint's classes are not checked"):
        assert _test_metainfo(cfg, 'my.py') == {}
    cfg.test_dataloader.dataset.metainfo = dict(classes=('a', 'b'))
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # the config names its classes: they are checked, no warning
        assert _test_metainfo(cfg, 'my.py') == dict(classes=('a', 'b'))
