"""tools/test.py on a distillation checkpoint: the student is tested, without the teacher's own file."""
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config

from tests.script_loader import ROOT, load_script
from visiondiv.registry import DATASETS, MODELS
from visiondiv.utils.setup_env import register_all_modules

CFG = osp.join(ROOT, 'configs', 'kd', 'kd_smallconvnet-w32_smallconvnet-w8_mnist5k_24e.py')


def test_test_py_scores_the_student_without_the_teacher_file(tmp_path, capsys):
    register_all_modules()
    cfg = Config.fromfile(CFG)
    assert not osp.exists(osp.join(ROOT, cfg.model.teacher_ckpt))  # the config's placeholder
    torch.manual_seed(0)
    model = MODELS.build(dict(cfg.model.to_dict(), teacher_ckpt=None)).eval()
    ckpt = tmp_path / 'epoch_24.pth'
    torch.save(dict(meta=dict(), state_dict=model.state_dict()), ckpt)

    load_script('tools', 'test.py').main([CFG, str(ckpt), '--work-dir', str(tmp_path / 'work')])
    out = capsys.readouterr().out
    assert (f"model.teacher_ckpt='checkpoints/smallconvnet-w32_mnist.pth' is not read; the teacher comes from "
            f'{ckpt}') in out
    # the student's top-1 on the test split, computed here from its logits
    test_set = DATASETS.build(cfg.test_dataloader.dataset)
    imgs = np.stack([test_set.get_data_info(i)['img'] for i in range(len(test_set))])
    labels = torch.tensor([test_set.get_data_info(i)['gt_label'] for i in range(len(test_set))])
    x = (torch.from_numpy(imgs).permute(0, 3, 1, 2).double() - 33.3285) / 78.5655
    with torch.no_grad():
        logits = model.architecture.double()(x)  # mode="tensor": the logits
    top1 = 100 * (logits.argmax(1) == labels).double().mean().item()
    assert f'accuracy/top1: {top1:.4f}' in out
