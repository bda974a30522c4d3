"""The shared validators: each error names the file or the config key."""
import re

import numpy as np
import pytest
from torch import nn

from visiondiv.utils.validation import (ConfigCheckError, check_finite, check_labels, check_num_classes, check_window,
                                        normalize_domain)


def test_check_window_returns_floats_and_names_the_key():
    assert check_window((-1000, 400)) == (-1000.0, 400.0)
    for bad in [(1, 1), (2, 1), (0, float('inf')), (1,), 'ab', None]:
        with pytest.raises(ValueError, match='^ct_window must be two'):
            check_window(bad, 'ct_window')


def test_check_labels_and_check_finite_name_the_file():
    lab = np.array([[0, 1], [2, 1]])
    assert check_labels(lab, 'a.nii', 3) is lab
    with pytest.raises(ValueError, match=r'^a\.nii: labels must be integers'):
        check_labels(lab + 0.5, 'a.nii')
    with pytest.raises(ValueError, match=r'^a\.nii: labels must lie in \[0, 2\), found \[0, 2\]'):
        check_labels(lab, 'a.nii', 2)
    vol = np.array([1.0, np.nan, np.inf, -np.inf])
    with pytest.raises(ValueError, match=r'^b\.nii: 3 of 4 voxels are not finite \(1 NaN, 2 inf\)'):
        check_finite(vol, 'b.nii')
    assert check_finite(vol[:1], 'b.nii') is not None


def test_normalize_domain():
    assert normalize_domain(' Source ') == 'source'
    assert normalize_domain(None) is None


def head(num_classes):
    module = nn.Module()
    module.num_classes = num_classes
    return module


def heads_model(**heads):
    """A model with the given heads (``roi_head__bbox_head``: nested; a list: an nn.ModuleList)."""
    model = nn.Module()
    for name, num in heads.items():
        node = model
        *parents, last = name.split('__')
        for p in parents:
            node.add_module(p, nn.Module())
            node = getattr(node, p)
        node.add_module(last, nn.ModuleList([head(n) for n in num]) if isinstance(num, list) else head(num))
    return model


@pytest.mark.parametrize('heads, key', [
    (dict(bbox_head=3), 'model.bbox_head'),
    (dict(roi_head__bbox_head=3, rpn_head=1), 'model.roi_head.bbox_head'),       # the RPN's 1 class is not checked
    (dict(decode_head=3), 'model.decode_head'),
    (dict(decode_head=2, auxiliary_head=[2, 3]), 'model.auxiliary_head[1]'),
])
def test_head_num_classes_must_match_the_dataset(heads, key):
    classes = ('ship', 'tank')
    with pytest.raises(ConfigCheckError) as err:
        check_num_classes(heads_model(**heads), dict(classes=classes), 'train_dataloader.dataset', 'cfg.py')
    assert str(err.value).startswith(f"cfg.py: train_dataloader.dataset has 2 classes (metainfo.classes = "
                                     f"('ship', 'tank')) but {key}.num_classes = 3")
    ok = {k: (len(classes) if not isinstance(v, list) else [len(classes)] * len(v)) if k != 'rpn_head' else v
          for k, v in heads.items()}
    check_num_classes(heads_model(**ok), dict(classes=classes), 'train_dataloader.dataset', 'cfg.py')
    check_num_classes(heads_model(**heads), dict(), 'train_dataloader.dataset', 'cfg.py')   # no classes named


def test_check_finite_counts_the_same_for_a_tensor_and_an_array():
    import torch
    values = np.array([[0.0, np.nan, np.inf], [-np.inf, 1.0, np.nan]])
    for v in (values, torch.from_numpy(values), torch.from_numpy(values).half()):
        with pytest.raises(ValueError, match=r'^KDLoss: 4 of 6 values of preds_S are not finite \(2 NaN, 2 inf\)$'):
            check_finite(v, 'KDLoss', 'values of preds_S')
    ok = torch.zeros(2, 3)
    assert check_finite(ok, 'KDLoss') is ok


def test_check_positive_and_non_negative():
    from visiondiv.utils.validation import check_non_negative, check_positive
    assert check_positive(np.float32(0.5), 'tau', 'KDLoss') == 0.5 and check_non_negative(0, 'gamma', 'X') == 0.0
    for bad in (0, -1.0, float('nan'), float('inf'), True, '4', None):
        with pytest.raises(ValueError, match=rf'^KDLoss: tau must be a finite number > 0, got {re.escape(repr(bad))}$'):
            check_positive(bad, 'tau', 'KDLoss')
    for bad in (-1e-9, float('nan'), np.bool_(False), '0'):
        with pytest.raises(ValueError, match=r'^X: gamma must be a finite number >= 0, got '):
            check_non_negative(bad, 'gamma', 'X')
