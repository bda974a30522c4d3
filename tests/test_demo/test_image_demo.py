"""demo/image_demo.py checks the config as the tools do before it builds the detector."""
import pytest

from tests.script_loader import ROOT, load_script
from visiondiv.utils import ConfigCheckError

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
