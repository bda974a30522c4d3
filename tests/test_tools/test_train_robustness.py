"""End-to-end robustness of tools/train.py on a tiny generated toy set (subprocesses, CPU)."""
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.script_loader import ROOT, load_script

BASE = osp.join(ROOT, 'configs', 'kld', 'rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py')


def make_data(root, num_train=6):
    toy = load_script('tools', 'data', 'toy_dota.py')
    toy.generate(str(root), num_train=num_train, num_val=2, seed=3)


def write_config(tmp_path, data_root, max_epochs=3, filter_empty=True):
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f"""
_base_ = {BASE!r}
data_root = {str(data_root) + '/'!r}
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, filter_cfg=dict(filter_empty_gt={filter_empty})))
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs={max_epochs}, val_interval=100)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=1)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=10))
""")
    return str(cfg)


def train_cmd(cfg, work_dir, *extra):
    return [sys.executable, osp.join(ROOT, 'tools', 'train.py'), cfg, '--work-dir', str(work_dir), *extra]


def run_train(cfg, work_dir, *extra):
    return subprocess.run(train_cmd(cfg, work_dir, *extra), cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_killed_run_resumes_to_same_iteration(tmp_path):
    make_data(tmp_path / 'data')
    cfg = write_config(tmp_path, tmp_path / 'data', max_epochs=4)
    work = tmp_path / 'work'
    proc = subprocess.Popen(train_cmd(cfg, work), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (work / 'epoch_2.pth').exists():
        assert proc.poll() is None, 'training ended before it could be killed'
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)       # killed mid-way: no cleanup, no final checkpoint
    proc.wait()
    assert not (work / 'epoch_4.pth').exists()
    result = run_train(cfg, work, '--resume')
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'resumed epoch' in (result.stdout + result.stderr)
    ckpt = torch.load(work / 'epoch_4.pth', map_location='cpu', weights_only=False)
    # 6 images, all with objects except the generator's rare empty ones, batch 2 -> 3 iterations/epoch
    iters_per_epoch = ckpt['meta']['iter'] // 4
    assert ckpt['meta']['epoch'] == 4 and ckpt['meta']['iter'] == 4 * iters_per_epoch and iters_per_epoch >= 2
    # every checkpoint left on disk is complete (atomic writes)
    for f in work.glob('*.pth'):
        torch.load(f, map_location='cpu', weights_only=False)


def test_empty_images_train_and_corrupted_image_is_named(tmp_path):
    data = tmp_path / 'data'
    make_data(data, num_train=4)
    for name in ('P0000', 'P0001'):       # two images without objects, kept in training
        (data / 'train' / 'labelTxt' / f'{name}.txt').write_text('')
    cfg = write_config(tmp_path, data, max_epochs=1, filter_empty=False)
    result = run_train(cfg, tmp_path / 'w1')
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'nan' not in (result.stdout + result.stderr).lower().split('loss:')[-1][:200]
    (data / 'train' / 'images' / 'P0002.png').write_bytes(b'not a png')
    result = run_train(cfg, tmp_path / 'w2')
    assert result.returncode != 0
    assert 'P0002.png' in result.stdout + result.stderr


def test_malformed_annotation_and_unknown_type_fail_early(tmp_path):
    data = tmp_path / 'data'
    make_data(data, num_train=2)
    with open(data / 'train' / 'labelTxt' / 'P0001.txt', 'a') as f:
        f.write('1 2 3 4 5 6 7 8 submarine 0\n')
    cfg = write_config(tmp_path, data, max_epochs=1)
    result = run_train(cfg, tmp_path / 'w')
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "P0001.txt" in out and "unknown class 'submarine'" in out
    result = run_train(cfg, tmp_path / 'w', '--cfg-options', 'model.bbox_head.loss_bbox.type=KLDLos')
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "'model.bbox_head.loss_bbox.type' names unknown type 'KLDLos'" in out


def test_amp_without_gpu_is_refused_clearly():
    train = load_script('tools', 'train.py')
    args = train.parse_args([BASE, '--amp'])
    if torch.cuda.is_available():
        assert train.build_config(args).optim_wrapper.type == 'AmpOptimWrapper'
    else:
        with pytest.raises(RuntimeError, match='--amp needs a GPU'):
            train.build_config(args)


UNET = osp.join(ROOT, 'configs', '_base_', 'models', 'unet_seg.py')


def unet_checkpoint(path):
    """A segmentation UNet's checkpoint: nothing in it is a detector's tensor."""
    from mmengine.config import Config

    from visiondiv.registry import MODELS
    model = MODELS.build(Config.fromfile(UNET).model)
    torch.save(dict(meta=dict(epoch=1, iter=1), state_dict=model.state_dict()), str(path))
    return str(path)


def test_checkpoint_of_another_model_is_refused_by_test_and_train(tmp_path):
    from visiondiv.utils.checkpoint import CheckpointMismatchError
    make_data(tmp_path / 'data', num_train=2)
    cfg = write_config(tmp_path, tmp_path / 'data', max_epochs=1)
    ckpt = unet_checkpoint(tmp_path / 'unet.pth')
    # before: test.py printed mAP 0.0 and exited 0
    with pytest.raises(CheckpointMismatchError, match=f"{ckpt}: not a checkpoint of this model: 0 of the model's"):
        load_script('tools', 'test.py').main([cfg, ckpt, '--work-dir', str(tmp_path / 'test')])
    with pytest.raises(CheckpointMismatchError, match=f'{ckpt}: not a checkpoint of this model'):
        load_script('tools', 'train.py').main([cfg, '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                                               f'load_from={ckpt}'])
    assert not list((tmp_path / 'w').glob('*.pth'))


def test_resume_with_nothing_to_resume_keeps_load_from(tmp_path, monkeypatch):
    train = load_script('tools', 'train.py')
    logged = []
    monkeypatch.setattr(train, 'print_log', lambda msg, **kw: logged.append(msg))
    weights = tmp_path / 'dota.pth'
    weights.write_bytes(b'')
    work = tmp_path / 'fresh'
    cfg = train.build_config(train.parse_args([BASE, '--resume', '--work-dir', str(work), '--cfg-options',
                                               f'load_from={weights}']))
    # before: resume=True and load_from=None, so mmengine found nothing and trained from scratch
    assert cfg.load_from == str(weights) and cfg.resume is False
    assert logged == [f'no checkpoint in {work} to resume; loading weights from {weights}']
    hook = [h for h in cfg.custom_hooks if h.type == 'CompatibilityCheckHook']
    assert hook == [dict(type='CompatibilityCheckHook', complete_checkpoint=False)]    # a fine-tune's check


def test_truncated_last_checkpoint_resumes_from_the_previous_one(tmp_path):
    make_data(tmp_path / 'data', num_train=2)
    work = tmp_path / 'work'
    train = load_script('tools', 'train.py')
    train.main([write_config(tmp_path, tmp_path / 'data', max_epochs=2), '--work-dir', str(work)])
    assert (work / 'last_checkpoint').read_text() == str(work / 'epoch_2.pth')
    data = (work / 'epoch_2.pth').read_bytes()
    (work / 'epoch_2.pth').write_bytes(data[:len(data) // 2])      # e.g. a copy cut short, a full disk
    cfg = train.build_config(train.parse_args([write_config(tmp_path, tmp_path / 'data', max_epochs=3),
                                               '--work-dir', str(work), '--resume']))
    # before: load_from=None, and mmengine's resume of epoch_2.pth failed in torch.load
    assert cfg.resume is True and cfg.load_from == str(work / 'epoch_1.pth')
    train.main([write_config(tmp_path, tmp_path / 'data', max_epochs=3), '--work-dir', str(work), '--resume'])
    ckpt = torch.load(work / 'epoch_3.pth', map_location='cpu', weights_only=False)
    # resumed after epoch 1: epochs 2 and 3 again, one iteration each (2 images, batch 2)
    assert ckpt['meta']['epoch'] == 3 and ckpt['meta']['iter'] == 3


def test_dataset_and_head_classes_must_agree(tmp_path):
    from visiondiv.utils import ConfigCheckError
    data = tmp_path / 'data'
    make_data(data, num_train=2)
    for f in (data / 'train' / 'labelTxt').glob('*.txt'):          # a 2-class dataset: no planes
        f.write_text(''.join(line for line in f.read_text().splitlines(True) if ' plane ' not in line))
    cfg = write_config(tmp_path, data, max_epochs=1)
    options = ['--cfg-options', "train_dataloader.dataset.metainfo.classes=['ship','tank']"]
    with pytest.raises(ConfigCheckError, match=r"train_dataloader.dataset has 2 classes \(metainfo.classes = "
                                               r"\('ship', 'tank'\)\) but model.bbox_head.num_classes = 3"):
        load_script('tools', 'train.py').main([cfg, '--work-dir', str(tmp_path / 'w'), *options])
    assert not list((tmp_path / 'w').glob('*.pth'))


def train_log(cfg, work_dir, *options):
    """tools/train.py's main on a config of 0 epochs (model and datasets built as a run builds them): the log."""
    load_script('tools', 'train.py').main([cfg, '--work-dir', str(work_dir), *options])
    return '\n'.join(p.read_text() for p in work_dir.glob('*/*.log'))


def test_normalised_labels_are_warned_in_the_run_log(tmp_path):
    import cv2
    data = tmp_path / 'data'
    make_data(data, num_train=2)
    cfg = write_config(tmp_path, data, max_epochs=0)
    assert 'look normalised' not in train_log(cfg, tmp_path / 'w0')           # pixel labels: nothing to say
    for txt in (data / 'train' / 'labelTxt').glob('*.txt'):              # the conversion mistake: x / w, y / h
        height, width = cv2.imread(str(data / 'train' / 'images' / f'{txt.stem}.png')).shape[:2]
        lines = []
        for line in txt.read_text().splitlines():
            fields = line.split()
            xy = [float(v) / (width if i % 2 == 0 else height) for i, v in enumerate(fields[:8])]
            lines.append(' '.join(f'{v:.4f}' for v in xy) + ' ' + ' '.join(fields[8:]) + '\n')
        txt.write_text(''.join(lines))
    log = train_log(cfg, tmp_path / 'w1')
    assert f'WARNING - ann_file {data}/train/labelTxt/: every coordinate of all' in log
    with_boxes = sorted(str(t) for t in (data / 'train' / 'labelTxt').glob('*.txt') if t.read_text().strip())
    assert f'Label files with such boxes: {", ".join(with_boxes)}.' in log


def test_images_without_label_files_are_named_in_the_run_log(tmp_path):
    data = tmp_path / 'data'
    make_data(data, num_train=3)
    (data / 'train' / 'labelTxt' / 'P0001.txt').unlink()
    log = train_log(write_config(tmp_path, data, max_epochs=0), tmp_path / 'w')
    assert (f'WARNING - {data}/train/images/ (data_prefix.img_path): 1 image(s) have no label file in '
            f'{data}/train/labelTxt/ and are skipped') in log
    assert 'to train it as background): P0001.png' in log


def test_jpg_images_suggest_img_suffix(tmp_path):
    import cv2
    data = tmp_path / 'data'
    make_data(data, num_train=2)
    for png in (data / 'train' / 'images').glob('*.png'):
        cv2.imwrite(str(png.with_suffix('.jpg')), cv2.imread(str(png)))
        png.unlink()
    with pytest.raises(FileNotFoundError, match=r"P0000\.png .*; the folder .*train/images has 2 '\*\.jpg' file\(s\) "
                                                r"while the dataset looks for '\*\.png': set img_suffix='jpg'"):
        train_log(write_config(tmp_path, data, max_epochs=0), tmp_path / 'w')


def test_twelve_bit_png_trains_on_its_real_range(tmp_path):
    """A 16-bit PNG of 12-bit data gives the training pipeline what its 8-bit version gives, not a black image."""
    import cv2
    import numpy as np
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    data = tmp_path / 'data'
    make_data(data, num_train=2)
    train = load_script('tools', 'train.py')
    cfg = train.build_config(train.parse_args([write_config(tmp_path, data, max_epochs=1), '--work-dir',
                                               str(tmp_path / 'w')]))
    pipeline = cfg.train_dataloader.dataset.pipeline
    pipeline[:] = [t for t in pipeline if t.type != 'mmdet.RandomFlip']
    init_default_scope(cfg.default_scope)

    def sample():
        dataset = Runner.build_dataloader(cfg.train_dataloader).dataset          # as the runner builds it
        png = dataset.get_data_info(0)['img_path']
        return png, dataset[0]['inputs'], dataset.pipeline.transforms[0](dict(img_path=png))['img']

    png, inputs_8bit, img8 = sample()
    low_bits = np.random.default_rng(0).integers(0, 16, img8.shape, dtype=np.uint16)
    assert img8.max() >= 128
    cv2.imwrite(png, (img8.astype(np.uint16) << 4) | low_bits)                 # the same image as 12-bit data
    assert cv2.imread(png, cv2.IMREAD_UNCHANGED).dtype == np.uint16
    _, inputs_12bit, loaded = sample()
    assert loaded.dtype == np.uint8 and np.array_equal(loaded, img8)             # (v << 4 | low) / 16
    assert torch.equal(inputs_12bit, inputs_8bit)


@pytest.mark.parametrize('tool', ['train.py', 'test.py'])
def test_misspelt_head_argument_names_the_key_and_the_closest_argument(tmp_path, tool):
    """Before: mmdet's "AnchorHead.__init__() got an unexpected keyword argument 'loss_bbbox'", from the build."""
    from visiondiv.utils import ConfigCheckError
    cfg = tmp_path / 'my_kld.py'
    cfg.write_text(f"_base_ = {BASE!r}\n"
                   "model = dict(bbox_head=dict(loss_bbbox=dict(type='GDLoss', loss_type='kld', tau=1)))\n")
    ckpt = tmp_path / 'model.pth'
    ckpt.write_bytes(b'')
    args = [str(cfg)] + ([str(ckpt)] if tool == 'test.py' else []) + ['--work-dir', str(tmp_path / 'w')]
    with pytest.raises(ConfigCheckError) as err:
        load_script('tools', tool).main(args)
    assert str(err.value).startswith(f"{cfg}: 'model.bbox_head.loss_bbbox' is not an argument of RotatedRetinaHead")
    assert "Did you mean 'model.bbox_head.loss_bbox'" in str(err.value)
    assert not (tmp_path / 'w').exists() or not list((tmp_path / 'w').glob('*.pth'))


def test_evaluating_a_set_without_labels_is_refused_and_format_only_writes_the_submission(tmp_path):
    """Before: test_dataloader.dataset.ann_file='' (DOTA test-dev) evaluated by DOTAMetric printed mAP 0.000."""
    from mmengine.config import Config

    from visiondiv.registry import MODELS
    from visiondiv.utils import ConfigCheckError
    data = tmp_path / 'data'
    make_data(data, num_train=1)
    cfg = write_config(tmp_path, data, max_epochs=1)
    unlabelled = ['--cfg-options', 'test_dataloader.dataset.ann_file=',
                  'test_dataloader.dataset.data_prefix.img_path=val/images/']
    ckpt = tmp_path / 'model.pth'
    model = MODELS.build(Config.fromfile(cfg).model)
    torch.save(dict(meta=dict(epoch=1, iter=1), state_dict=model.state_dict()), str(ckpt))
    test = load_script('tools', 'test.py')
    with pytest.raises(ConfigCheckError) as err:
        test.main([cfg, str(ckpt), '--work-dir', str(tmp_path / 't'), *unlabelled])
    msg = str(err.value)
    assert msg.startswith(f"{cfg}: test_dataloader.dataset.ann_file is ''")
    assert 'test_evaluator.format_only=True with test_evaluator.outfile_prefix=DIR' in msg
    assert 'Task1_<class>.txt' in msg
    # what the message says works: the submission files are written, nothing is scored
    out = tmp_path / 'submission'
    test.main([cfg, str(ckpt), '--work-dir', str(tmp_path / 't'), *unlabelled, 'test_evaluator.format_only=True',
               f'test_evaluator.outfile_prefix={out}'])
    assert sorted(p.name for p in out.iterdir()) == ['Task1.zip', 'Task1_plane.txt', 'Task1_ship.txt',
                                                     'Task1_tank.txt']
