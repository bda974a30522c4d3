"""demo/image_demo.py: a checkpoint of another model is refused, a shrunk image is warned about and detected
by patches, the drawn PNG keeps the input's extent (issue 21, items 1, 5 and 8), and the config is checked as
the tools check it before the detector is built."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from tests.script_loader import ROOT, load_script
from tests.test_apis.blob_detector import blob_image, save_blob_checkpoint, write_blob_config
from visiondiv.registry import MODELS
from visiondiv.utils import ConfigCheckError
from visiondiv.utils.checkpoint import CheckpointMismatchError

RETINA = osp.join(ROOT, 'configs', 'kld', 'rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py')
FCOS = osp.join(ROOT, 'configs', 'rotated_fcos', 'rotated-fcos-le90_r18-tiny_fpn_kld_16e_toy-dota.py')


def demo(*argv):
    load_script('demo', 'image_demo.py').main([str(a) for a in argv])


def test_checkpoint_of_another_model_is_refused(tmp_path):
    """Before: mmengine's missing/unexpected-keys lines, then 164 boxes from an untrained head."""
    model = MODELS.build(Config.fromfile(FCOS).model)
    ckpt = str(tmp_path / 'fcos.pth')
    torch.save(dict(meta=dict(dataset_meta=dict(classes=('ship', 'tank', 'plane'))), state_dict=model.state_dict()),
               ckpt)
    cv2.imwrite(str(tmp_path / 'a.png'), np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(CheckpointMismatchError, match=f'{ckpt}: does not cover the whole model'):
        demo(tmp_path / 'a.png', RETINA, ckpt, '--out-dir', tmp_path / 'out', '--device', 'cpu')
    assert not (tmp_path / 'out' / 'a.png').exists()


def test_shrunk_image_is_warned_and_patches_find_the_objects(tmp_path, capsys):
    """Before: '0 objects' for a large image, without a word."""
    cfg = write_blob_config(tmp_path / 'blob.py', scale=100)
    ckpt = save_blob_checkpoint(tmp_path / 'blob.pth')
    image = tmp_path / 'scene.png'
    centres = blob_image(image)
    with pytest.warns(UserWarning, match=r'scene.png: the 400x400 image is shrunk 4.0x to 100x100 by the test '
                                         r'pipeline \(mmdet.Resize scale=\(100, 100\)\)'):
        demo(image, cfg, ckpt, '--out-dir', tmp_path / 'whole', '--device', 'cpu')
    assert capsys.readouterr().out.strip().endswith(f'{image}: 0 objects -> {tmp_path / "whole" / "scene.png"}')
    demo(image, cfg, ckpt, '--out-dir', tmp_path / 'patches', '--device', 'cpu', '--patch-size', 100,
         '--patch-overlap', 20)
    assert f'{image}: {len(centres)} objects ->' in capsys.readouterr().out


def test_drawn_png_keeps_the_input_extent(tmp_path):
    """A box crossing the border made matplotlib widen the view: white margins, the image shifted."""
    cfg = write_blob_config(tmp_path / 'blob.py', scale=200, box_scale=1.8, angle=0.6)
    ckpt = save_blob_checkpoint(tmp_path / 'blob.pth')
    image = tmp_path / 'edge.png'
    blob_image(image, size=200, side=20, centres=[(192, 100)])         # at the right border: its box crosses it
    demo(image, cfg, ckpt, '--out-dir', tmp_path / 'out', '--device', 'cpu')
    drawn, original = cv2.imread(str(tmp_path / 'out' / 'edge.png')), cv2.imread(str(image))
    assert drawn.shape == original.shape
    assert np.array_equal(drawn[:, :120], original[:, :120])         # far from the box and its label: untouched
    assert not np.array_equal(drawn[:, 150:], original[:, 150:])      # the box is drawn


BASE = f'{ROOT}/configs/kld/rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py'


def test_misspelt_argument_is_named_before_the_build(tmp_path):
    cfg = tmp_path / 'mine.py'
    cfg.write_text(f"_base_ = {BASE!r}\nmodel = dict(bbox_head=dict(loss_bbox=dict(tua=1.0)))\n")
    image, ckpt = tmp_path / 'a.png', tmp_path / 'model.pth'
    image.write_bytes(b'')
    ckpt.write_bytes(b'')
    # before: GDLoss.__init__() got an unexpected keyword argument 'tua', from inside mmdet's init_detector
    with pytest.raises(ConfigCheckError, match=f"{cfg}: 'model.bbox_head.loss_bbox.tua' is not an argument of "
                                               "GDLoss .*Did you mean 'model.bbox_head.loss_bbox.tau'"):
        load_script('demo', 'image_demo.py').main([str(image), str(cfg), str(ckpt), '--out-dir', str(tmp_path)])


def test_patch_flags_reach_inference_by_patches(tmp_path, monkeypatch, capsys):
    import visiondiv.apis
    cfg = write_blob_config(tmp_path / 'blob.py', scale=100)
    ckpt = save_blob_checkpoint(tmp_path / 'blob.pth')
    image = tmp_path / 'scene.png'
    blob_image(image)
    seen = []
    real = visiondiv.apis.inference_detector_by_patches

    def record(model, path, patch_size, patch_overlap, nms_cfg, **kw):
        seen.append(dict(path=path, patch_size=patch_size, patch_overlap=patch_overlap, nms_cfg=nms_cfg, **kw))
        return real(model, path, patch_size, patch_overlap, nms_cfg, **kw)

    monkeypatch.setattr(visiondiv.apis, 'inference_detector_by_patches', record)
    demo(image, cfg, ckpt, '--out-dir', tmp_path / 'out', '--device', 'cpu', '--patch-size', 120, '--patch-overlap',
         30, '--merge-iou-thr', 0.2)
    assert seen == [dict(path=str(image), patch_size=[120], patch_overlap=[30],
                         nms_cfg=dict(type='nms_rotated', iou_threshold=0.2), img_ratios=[1.0])]
    assert '12 objects' in capsys.readouterr().out
    # without --patch-size: one pass, no patches
    demo(image, cfg, ckpt, '--out-dir', tmp_path / 'out', '--device', 'cpu')
    assert len(seen) == 1


@pytest.mark.parametrize('argv,message', [
    (['--patch-size', '100', '--patch-overlap', '100'], 'argument --patch-overlap: 100 must be smaller than '
                                                        '--patch-size 100'),
    (['--patch-size', '100', '--patch-overlap', '150'], 'argument --patch-overlap: 150 must be smaller'),
    (['--patch-size', '0'], 'argument --patch-size: must be positive'),
    (['--patch-size', '-64', '--patch-overlap', '0'], 'argument --patch-size: must be positive'),
    (['--patch-size', '100', '--patch-overlap', '-5'], 'argument --patch-overlap: must be >= 0'),
    (['--patch-size', '100', '200', '--patch-overlap', '10', '20', '30'], 'argument --patch-overlap: give one value'),
    (['--patch-size', '100', '--patch-overlap', '20', '--img-ratios', '0'], 'argument --img-ratios: must be positive'),
])
def test_bad_patch_flags_are_refused_naming_the_argument(tmp_path, capsys, argv, message):
    # refused before anything is read: the image, config and checkpoint need not exist
    with pytest.raises(SystemExit) as exit_info:
        demo(tmp_path / 'none.png', tmp_path / 'none.py', tmp_path / 'none.pth', *argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
