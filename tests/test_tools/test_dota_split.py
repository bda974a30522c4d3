import cv2
import numpy as np
import pytest

from tests.script_loader import load_script


def load_split():
    return load_script('tools', 'data', 'dota', 'split.py')


def test_sliding_windows_match_mmrotate_rules():
    split = load_split()
    # 1500 px with 1024/200: step 824 -> starts 0, 824 -> last moved back to 1500 - 1024 = 476
    w = split.sliding_windows(1500, 900, [1024], [200])
    assert sorted(set(w[:, 0].tolist())) == [0, 476] and sorted(set(w[:, 1].tolist())) == [0]
    assert w.shape == (2, 4) and (w[:, 2] - w[:, 0] == 1024).all()
    # a small image gets a single (padded) window
    assert split.sliding_windows(300, 200, [1024], [200]).tolist() == [[0, 0, 1024, 1024]]


def test_split_names_offsets_and_truncation(tmp_path):
    split = load_split()
    img = np.full((900, 1500, 3), 50, np.uint8)
    cv2.imwrite(str(tmp_path / 'P0001.png'), img)
    # A: inside window 0 only; B: in the overlap of both windows; C: cut by window 0's right border (x=1024)
    (tmp_path / 'P0001.txt').write_text(
        'imagesource:GoogleEarth\ngsd:0.5\n'
        '100 100 200 100 200 150 100 150 plane 0\n'
        '600 300 700 300 700 350 600 350 ship 1\n'
        '1004 500 1044 500 1044 520 1004 520 tank 0\n')
    ids = split.split_image(str(tmp_path / 'P0001.png'), str(tmp_path / 'P0001.txt'), str(tmp_path / 'out'),
                            [1024], [200])
    assert ids == ['P0001__1024__0___0', 'P0001__1024__476___0']
    lines0 = (tmp_path / 'out' / 'annfiles' / 'P0001__1024__0___0.txt').read_text().splitlines()
    lines1 = (tmp_path / 'out' / 'annfiles' / 'P0001__1024__476___0.txt').read_text().splitlines()
    assert [ln.split()[8] for ln in lines0] == ['plane', 'ship']       # C has iof 0.5 < 0.7 in window 0
    assert [ln.split()[8] for ln in lines1] == ['ship', 'tank']
    ship1 = lines1[0].split()
    assert float(ship1[0]) == pytest.approx(600 - 476) and ship1[9] == '1'
    patch = cv2.imread(str(tmp_path / 'out' / 'images' / 'P0001__1024__0___0.png'))
    assert patch.shape == (1024, 1024, 3) and tuple(patch[1000, 10]) == (104, 116, 124)   # padded rows
    # a cut object that is still kept gets difficulty 2
    (tmp_path / 'P0001.txt').write_text('1000 500 1030 500 1030 520 1000 520 tank 0\n')
    split.split_image(str(tmp_path / 'P0001.png'), str(tmp_path / 'P0001.txt'), str(tmp_path / 'out2'),
                      [1024], [200])
    line = (tmp_path / 'out2' / 'annfiles' / 'P0001__1024__0___0.txt').read_text().split()
    assert line[8] == 'tank' and line[9] == '2'


def test_split_bad_annotation_names_line(tmp_path):
    split = load_split()
    cv2.imwrite(str(tmp_path / 'P0002.png'), np.zeros((50, 50, 3), np.uint8))
    (tmp_path / 'P0002.txt').write_text('1 2 3 4 5 6 7 8 plane 0\n1 2 3 4 5 six 7 8 plane 0\n')
    with pytest.raises(ValueError, match=r'P0002\.txt:2: non-numeric'):
        split.split_image(str(tmp_path / 'P0002.png'), str(tmp_path / 'P0002.txt'), str(tmp_path / 'o'),
                          [1024], [200])


@pytest.mark.parametrize('value', ['nan', 'inf', '-inf'])
def test_split_rejects_non_finite_coordinates(tmp_path, value):
    # the dataset's parser, shared: float() accepts these, the split must not write them into patches
    split = load_split()
    cv2.imwrite(str(tmp_path / 'P0003.png'), np.zeros((50, 50, 3), np.uint8))
    (tmp_path / 'P0003.txt').write_text(f'1 2 3 4 5 6 7 8 plane 0\n1 2 3 4 {value} 6 7 8 plane 0\n')
    with pytest.raises(ValueError, match=r'P0003\.txt:2: non-finite coordinate'):
        split.split_image(str(tmp_path / 'P0003.png'), str(tmp_path / 'P0003.txt'), str(tmp_path / 'o'),
                          [1024], [200])
    assert not (tmp_path / 'o').exists()


def test_main_reads_eight_bit_images_as_before(tmp_path):
    split = load_split()
    (tmp_path / 'img').mkdir()
    (tmp_path / 'ann').mkdir()
    img = np.random.default_rng(0).integers(0, 256, (300, 500, 3)).astype(np.uint8)
    cv2.imwrite(str(tmp_path / 'img' / 'P0005.png'), img)
    (tmp_path / 'ann' / 'P0005.txt').write_text('10 10 60 10 60 30 10 30 plane 0\n')
    split.main(['--img-dirs', str(tmp_path / 'img'), '--ann-dirs', str(tmp_path / 'ann'), '--save-dir',
                str(tmp_path / 'out'), '--sizes', '256', '--gaps', '56'])
    for patch in (tmp_path / 'out' / 'images').iterdir():
        x, y = (int(v) for v in patch.stem.split('__', 2)[2].split('___'))
        got = cv2.imread(str(patch), cv2.IMREAD_UNCHANGED)
        assert got.dtype == np.uint8 and np.array_equal(got[:300 - y, :500 - x], img[y:y + 256, x:x + 256])


def test_sixteen_bit_patches_hold_what_training_loads(tmp_path):
    """A 16-bit PNG of 12-bit data: the patches have the values training's loading transform gives the image."""
    from mmengine.config import Config

    from tests.script_loader import ROOT
    from visiondiv.registry import TRANSFORMS
    split = load_split()
    (tmp_path / 'img').mkdir()
    (tmp_path / 'ann').mkdir()
    data = np.random.default_rng(0).integers(0, 4096, (300, 500, 3)).astype(np.uint16)
    data[5, 5] = 4095
    cv2.imwrite(str(tmp_path / 'img' / 'P0006.png'), data)
    (tmp_path / 'ann' / 'P0006.txt').write_text('10 10 60 10 60 30 10 30 plane 0\n')
    split.main(['--img-dirs', str(tmp_path / 'img'), '--ann-dirs', str(tmp_path / 'ann'), '--save-dir',
                str(tmp_path / 'out'), '--sizes', '256', '--gaps', '56'])
    # training as the DOTA configs load images
    cfg = Config.fromfile(f'{ROOT}/configs/_base_/datasets/dota.py')
    loaded = TRANSFORMS.build(cfg.train_pipeline[0])(dict(img_path=str(tmp_path / 'img' / 'P0006.png')))['img']
    assert np.array_equal(loaded, data >> 4)                 # the real range, not cv2's values up to 15
    patches = sorted((tmp_path / 'out' / 'images').iterdir())
    assert len(patches) == 6
    for patch in patches:
        x, y = (int(v) for v in patch.stem.split('__', 2)[2].split('___'))
        got = cv2.imread(str(patch), cv2.IMREAD_UNCHANGED)
        assert got.dtype == np.uint8 and got.shape == (256, 256, 3)
        assert np.array_equal(got[:300 - y, :500 - x], loaded[y:y + 256, x:x + 256])
    with pytest.raises(ValueError, match=r'P0006\.png: a 16-bit image \(values up to 4095: 12-bit data\).*'
                                         r'Convert it to 8 bits'):
        split.main(['--img-dirs', str(tmp_path / 'img'), '--save-dir', str(tmp_path / 'out2'),
                    '--bit-depth', 'refuse'])
    with pytest.raises(SystemExit):
        split.main(['--img-dirs', str(tmp_path / 'img'), '--save-dir', str(tmp_path / 'out2'), '--bit-depth', '7'])


def test_images_without_label_files_are_skipped_and_named(tmp_path, capsys):
    # DOTADataset's rule: an image without a label file is skipped, not split into object-free patches
    split = load_split()
    (tmp_path / 'img').mkdir()
    (tmp_path / 'ann').mkdir()
    for name in ('P0007', 'P0008', 'P0009'):
        cv2.imwrite(str(tmp_path / 'img' / f'{name}.png'), np.zeros((40, 40, 3), np.uint8))
    (tmp_path / 'ann' / 'P0007.txt').write_text('1 1 20 1 20 9 1 9 ship 0\n')
    split.main(['--img-dirs', str(tmp_path / 'img'), '--ann-dirs', str(tmp_path / 'ann'), '--save-dir',
                str(tmp_path / 'out'), '--sizes', '64', '--gaps', '8'])
    assert [p.name for p in (tmp_path / 'out' / 'images').iterdir()] == ['P0007__64__0___0.png']
    err = capsys.readouterr().err
    assert f'{tmp_path / "img"}: 2 of 3 image(s) have no label file in {tmp_path / "ann"} and are skipped' in err
    assert 'P0008.png, P0009.png' in err
    (tmp_path / 'ann' / 'P0007.txt').unlink()
    with pytest.raises(SystemExit):
        split.main(['--img-dirs', str(tmp_path / 'img'), '--ann-dirs', str(tmp_path / 'ann'), '--save-dir',
                    str(tmp_path / 'out3')])
    assert 'none of the 3 images' in capsys.readouterr().err
    # test images (no --ann-dirs) are all split, as before
    split.main(['--img-dirs', str(tmp_path / 'img'), '--save-dir', str(tmp_path / 'test'), '--sizes', '64',
                '--gaps', '8'])
    assert len(list((tmp_path / 'test' / 'images').iterdir())) == 3


def test_normalised_labels_are_warned(tmp_path, capsys):
    split = load_split()
    (tmp_path / 'img').mkdir()
    (tmp_path / 'ann').mkdir()
    cv2.imwrite(str(tmp_path / 'img' / 'P0010.png'), np.zeros((40, 40, 3), np.uint8))
    (tmp_path / 'ann' / 'P0010.txt').write_text('0.1 0.1 0.5 0.1 0.5 0.3 0.1 0.3 ship 0\n')
    split.main(['--img-dirs', str(tmp_path / 'img'), '--ann-dirs', str(tmp_path / 'ann'), '--save-dir',
                str(tmp_path / 'out'), '--sizes', '64', '--gaps', '8'])
    err = capsys.readouterr().err
    assert f'--ann-dirs {tmp_path / "ann"}: every coordinate of all 1 boxes lies in [0, 1]' in err
    assert str(tmp_path / 'ann' / 'P0010.txt') in err
