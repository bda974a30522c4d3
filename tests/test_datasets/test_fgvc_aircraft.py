import numpy as np
import pytest

from visiondiv.datasets import FGVCAircraftDataset

# variants.txt is not in name order here: classes must come out sorted, as np.unique in SimGCD
VARIANTS = 'Boeing 717\n707-320\nA300B4\nBAE-125\nBAE 146-200\n'
TRAINVAL = '0034309 Boeing 717\n0056978 707-320\n1514522 BAE 146-200\n0062781 Boeing 717\n1700000 BAE-125\n' \
    '1700001 A300B4\n'
TEST = '1514523 A300B4\n'


def aircraft_tree(root):
    data = root / 'data'
    (data / 'images').mkdir(parents=True)
    (data / 'variants.txt').write_text(VARIANTS)
    (data / 'images_variant_trainval.txt').write_text(TRAINVAL)
    (data / 'images_variant_test.txt').write_text(TEST)
    for line in (TRAINVAL + TEST).splitlines():
        (data / 'images' / f'{line.split()[0]}.jpg').write_bytes(b'jpg')
    return data


def test_aircraft_classes_samples_and_splits(tmp_path):
    data = aircraft_tree(tmp_path)
    ds = FGVCAircraftDataset(data_root=str(tmp_path))  # default split: trainval, SimGCD's training set
    assert ds.split == 'trainval'
    assert ds.metainfo['classes'] == ('707-320', 'A300B4', 'BAE 146-200', 'BAE-125', 'Boeing 717')
    got = [(ds.get_data_info(i)['img_path'], ds.get_data_info(i)['gt_label']) for i in range(len(ds))]
    assert got == [(str(data / 'images' / '0034309.jpg'), 4), (str(data / 'images' / '0056978.jpg'), 0),
                   (str(data / 'images' / '1514522.jpg'), 2), (str(data / 'images' / '0062781.jpg'), 4),
                   (str(data / 'images' / '1700000.jpg'), 3), (str(data / 'images' / '1700001.jpg'), 1)]
    # SimGCD's find_classes: the text after the first space, newline kept, indexed by np.unique
    targets = [' '.join(line.split(' ')[1:]) for line in TRAINVAL.splitlines(keepends=True)]
    names = np.unique(targets)
    assert [n.strip() for n in names] == list(ds.metainfo['classes'])
    assert [names.tolist().index(t) for t in targets] == [label for _, label in got]
    test = FGVCAircraftDataset(data_root=str(tmp_path), split='test')
    assert len(test) == 1 and test.get_data_info(0)['gt_label'] == 1


@pytest.mark.parametrize('text, error, match', [
    ('0034309 Boeing 717\n0056978 Concorde\n', ValueError,
     r"images_variant_trainval\.txt:2: unknown variant 'Concorde' \(not in .*variants\.txt\)"),
    ('0034309 Boeing 717\n\n0056978\n', ValueError, r'images_variant_trainval\.txt:3: expected 2 fields'),
    ('0034309 Boeing 717\n1111111 A300B4\n', FileNotFoundError,
     r'images_variant_trainval\.txt:2: image not found: .*1111111\.jpg'),
])
def test_aircraft_errors_name_file_and_line(tmp_path, text, error, match):
    (aircraft_tree(tmp_path) / 'images_variant_trainval.txt').write_text(text)
    with pytest.raises(error, match=match):
        FGVCAircraftDataset(data_root=str(tmp_path))


def test_aircraft_missing_files_and_bad_split(tmp_path):
    aircraft_tree(tmp_path)
    with pytest.raises(FileNotFoundError, match=r'images_variant_val\.txt not found'):
        FGVCAircraftDataset(data_root=str(tmp_path), split='val')
    with pytest.raises(ValueError, match=r"split must be one of \('train', 'val', 'trainval', 'test'\)"):
        FGVCAircraftDataset(data_root=str(tmp_path), split='family')
    (tmp_path / 'data' / 'variants.txt').unlink()
    with pytest.raises(FileNotFoundError, match=r'variants\.txt not found'):
        FGVCAircraftDataset(data_root=str(tmp_path))
