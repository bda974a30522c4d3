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
