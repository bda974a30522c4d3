import pytest
import torch

from visiondiv.engine import load_from_local


def test_load_from_local_reads_mmengine_checkpoints_and_names_missing_file(tmp_path):
    path = tmp_path / 'epoch_1.pth'
    # numpy content is what torch's restricted (weights_only) loader refuses in mmengine checkpoints
    import numpy as np
    torch.save({'meta': {'epoch': 1, 'seed': np.int64(3)}, 'w': torch.ones(3)}, str(path))
    ckpt = load_from_local(str(path))
    assert ckpt['meta']['epoch'] == 1 and torch.equal(ckpt['w'], torch.ones(3))
    with pytest.raises(FileNotFoundError, match='checkpoint not found: .*missing.pth'):
        load_from_local(str(tmp_path / 'missing.pth'))
