"""``demo/toy_detection.py --data DIR`` trains and tests on DIR, not on data/toy_dota."""
import os
import os.path as osp

from tests.script_loader import ROOT, load_script
from visiondiv.registry import DATASETS
from visiondiv.utils.cli import load_config, make_parser, parse_cli_args


def test_data_dir_reaches_every_dataset(tmp_path, monkeypatch):
    demo = load_script('demo', 'toy_detection.py')
    data = tmp_path / 'my_toy'
    load_script('tools', 'data', 'toy_dota.py').generate(str(data), num_train=2, num_val=1, seed=0)
    monkeypatch.chdir(tmp_path)  # a relative --data is relative to where the user runs the demo
    options = demo.data_root_options('my_toy')
    monkeypatch.chdir(ROOT)      # the demo runs the tools from the repository root
    args = parse_cli_args(make_parser('demo'), [demo.CONFIG] + options)
    cfg = load_config(args)
    for split, count in (('train', 2), ('val', 1), ('test', 1)):
        dataset = DATASETS.build(cfg[f'{split}_dataloader'].dataset)
        assert len(dataset) == count
        paths = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
        assert all(osp.commonpath([p, str(data)]) == str(data) for p in paths), paths
    assert not os.path.exists(osp.join(tmp_path, 'data'))


def test_expected_range_is_the_recorded_runs_min_and_max(tmp_path):
    demo = load_script('demo', 'toy_detection.py')
    runs = tmp_path / 'runs.json'
    runs.write_text('[{"seed": 0, "path": "native", "mAP50": 0.91}, {"seed": 1, "path": "native", "mAP50": 0.89},'
                    ' {"seed": 0, "path": "aten-default", "mAP50": 0.92}]')
    sentence, low, high = demo.expected_range(str(runs))
    assert (low, high) == (0.89, 0.92)
    assert sentence.startswith('mAP50 0.890–0.920 over 3 recorded runs (2 seeds; kernel paths aten-default, native;')
    assert demo.expected_range(str(tmp_path / 'none.json')) is None
