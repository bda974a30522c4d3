import numpy as np
import pytest

from visiondiv.datasets import ImageNet100Dataset, imagenet100_classes

WNIDS = [f'n{1440764 + 37 * i:08d}' for i in range(1000)]  # 1000 distinct, already sorted


def simgcd_draw(seed=0):
    """SimGCD's own lines (data/imagenet.py), on numpy's global state (saved and restored here)."""
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        subsampled_100_classes = np.random.choice(range(1000), size=(100,), replace=False)
        return np.sort(subsampled_100_classes)
    finally:
        np.random.set_state(state)


def test_imagenet100_classes_replicates_simgcds_draw():
    shuffled = list(np.random.default_rng(3).permutation(WNIDS))
    for seed in (0, 1):
        assert imagenet100_classes(shuffled, seed=seed) == [WNIDS[i] for i in simgcd_draw(seed)]
    # numpy's legacy RandomState stream is frozen (NEP 19): seed 0 gives SimGCD's indices 1, 14, 27, ... forever
    assert simgcd_draw(0)[:3].tolist() == [1, 14, 27]
    with pytest.raises(ValueError, match=r'1000 distinct ILSVRC-2012 classes; got 999 names \(999 distinct\)'):
        imagenet100_classes(WNIDS[:999])
    with pytest.raises(ValueError, match=r'got 1000 names \(999 distinct\)'):
        imagenet100_classes(WNIDS[:999] + WNIDS[:1])


def test_imagenet100_default_draw_from_the_train_folder(tmp_path):
    picked = [WNIDS[i] for i in simgcd_draw(0)]
    for split in ('train', 'val'):
        for wnid in (WNIDS if split == 'train' else picked):
            (tmp_path / split / wnid).mkdir(parents=True)
        for wnid in picked:
            (tmp_path / split / wnid / f'{wnid}_1.JPEG').write_bytes(b'jpg')
    train = ImageNet100Dataset(data_root=str(tmp_path), split='train')
    assert train.metainfo['classes'] == tuple(picked) and len(train) == 100
    assert [train.get_data_info(i)['gt_label'] for i in range(100)] == list(range(100))
    val = ImageNet100Dataset(data_root=str(tmp_path), split='val')
    assert val.metainfo['classes'] == tuple(picked)
    assert val.get_data_info(7)['img_path'] == str(tmp_path / 'val' / picked[7] / f'{picked[7]}_1.JPEG')
    (tmp_path / 'train' / WNIDS[0]).rmdir()
    with pytest.raises(ValueError, match=r'train: .*got 999 names.*give classes='):
        ImageNet100Dataset(data_root=str(tmp_path), split='val')


def test_imagenet100_class_list_file_is_sorted(tmp_path):
    for split, wnids in (('train', WNIDS[:3]), ('val', WNIDS[:2])):
        for wnid in wnids:
            (tmp_path / split / wnid).mkdir(parents=True)
            (tmp_path / split / wnid / 'a.JPEG').write_bytes(b'jpg')
    (tmp_path / 'list.txt').write_text(f'{WNIDS[2]}\n{WNIDS[0]}\n')
    ds = ImageNet100Dataset(data_root=str(tmp_path), split='train', classes=str(tmp_path / 'list.txt'))
    assert ds.metainfo['classes'] == (WNIDS[0], WNIDS[2])
    assert [(ds.get_data_info(i)['img_path'], ds.get_data_info(i)['gt_label']) for i in range(2)] == \
        [(str(tmp_path / 'train' / WNIDS[0] / 'a.JPEG'), 0), (str(tmp_path / 'train' / WNIDS[2] / 'a.JPEG'), 1)]
    with pytest.raises(FileNotFoundError, match=rf"val: no folder for class\(es\) \['{WNIDS[2]}'\]"):
        ImageNet100Dataset(data_root=str(tmp_path), split='val', classes=[WNIDS[2], WNIDS[0]])
    with pytest.raises(ValueError, match=r"split must be one of \('train', 'val'\), got 'test'"):
        ImageNet100Dataset(data_root=str(tmp_path), split='test', classes=[WNIDS[0]])
