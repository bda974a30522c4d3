"""tools/test.py and tools/train.py compare the classes a checkpoint was trained on with the dataset's
(issue 21, item 2): a reorder gave AP50 0.333 instead of 0.815, silently."""
import pickle

import pytest
import torch
from mmengine.config import Config

from tests.script_loader import load_script
from tests.test_tools.test_train_robustness import BASE, make_data, write_config
from visiondiv.registry import MODELS
from visiondiv.utils.checkpoint import CheckpointMismatchError

TOY = ('ship', 'tank', 'plane')
REORDERED = ('tank', 'plane', 'ship')


def toy_checkpoint(path, classes=TOY, **model_options):
    """An (untrained) toy RetinaNet checkpoint that names its classes, as mmengine's runner writes them."""
    cfg = Config.fromfile(BASE)
    cfg.merge_from_dict({f'model.{k}': v for k, v in model_options.items()})
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save(dict(meta=dict(epoch=1, iter=1, dataset_meta=dict(classes=classes)), state_dict=model.state_dict()),
               str(path))
    return str(path)


def classes_option(split, classes):
    return f"{split}_dataloader.dataset.metainfo.classes=[{','.join(repr(c) for c in classes)}]"


def test_test_py_refuses_reordered_classes_and_remaps_on_request(tmp_path):
    make_data(tmp_path / 'data', num_train=2)
    cfg = write_config(tmp_path, tmp_path / 'data', max_epochs=1)
    ckpt = toy_checkpoint(tmp_path / 'toy.pth')
    test = load_script('tools', 'test.py')
    with pytest.raises(CheckpointMismatchError) as err:
        test.main([cfg, ckpt, '--work-dir', str(tmp_path / 't0'), '--cfg-options', classes_option('test', REORDERED)])
    msg = str(err.value)
    assert msg.startswith(f"{ckpt}: trained on the classes ('ship', 'tank', 'plane') (its meta.dataset_meta.classes) "
                          "but test_dataloader.dataset has ('tank', 'plane', 'ship'): the same names in another order")
    assert 'Set remap_classes=True at the top level of the config (e.g. --cfg-options remap_classes=True)' in msg
    # with the remap, the predictions are those of the checkpoint's own order, under the dataset's labels
    low = 'model.test_cfg.score_thr=0.0'             # an untrained head scores ~0.01: keep every prediction
    few = 'model.test_cfg.nms_pre=100'
    test.main([cfg, ckpt, '--work-dir', str(tmp_path / 't1'), '--out', str(tmp_path / 'own.pkl'),
               '--cfg-options', low, few])
    test.main([cfg, ckpt, '--work-dir', str(tmp_path / 't2'), '--out', str(tmp_path / 'remapped.pkl'),
               '--cfg-options', low, few, 'remap_classes=True', classes_option('test', REORDERED)])
    own, remapped = (pickle.load(open(tmp_path / f, 'rb')) for f in ('own.pkl', 'remapped.pkl'))
    assert len(own) == len(remapped) == 2
    for a, b in zip(own, remapped):
        a, b = a['pred_instances'], b['pred_instances']
        assert len(a['scores']) > 0 and torch.equal(a['scores'], b['scores'])
        assert torch.equal(a['bboxes'], b['bboxes'])
        assert [TOY[i] for i in a['labels']] == [REORDERED[i] for i in b['labels']]


def rename_classes(data, names):
    for f in (data / 'train' / 'labelTxt').glob('*.txt'):
        text = f.read_text()
        for old, new in names.items():
            text = text.replace(f' {old} ', f' {new} ')
        f.write_text(text)


def test_train_py_fine_tune_refuses_same_number_of_other_classes(tmp_path):
    make_data(tmp_path / 'data', num_train=2)
    cfg = write_config(tmp_path, tmp_path / 'data', max_epochs=1)
    ckpt = toy_checkpoint(tmp_path / 'toy.pth')
    train = load_script('tools', 'train.py')
    for classes, says in ((REORDERED, 'the same names in another order'),
                          (('car', 'truck', 'bus'), 'other names')):
        if says == 'other names':
            rename_classes(tmp_path / 'data', dict(zip(TOY, classes)))
        with pytest.raises(CheckpointMismatchError, match=r"toy.pth: trained on the classes \('ship', 'tank', "
                                                          r"'plane'\) .* but train_dataloader.dataset has "
                                                          + r'\(' + ', '.join(f"'{c}'" for c in classes) + r'\): '
                                                          + says):
            train.main([cfg, '--work-dir', str(tmp_path / 'w'), '--cfg-options', f'load_from={ckpt}',
                        classes_option('train', classes)])
    assert not list((tmp_path / 'w').glob('*.pth'))


def test_train_py_fine_tunes_a_head_of_another_number_of_classes(tmp_path):
    data = tmp_path / 'data'
    make_data(data, num_train=2)
    for f in data.glob('*/labelTxt/*.txt'):                           # a 2-class dataset: no planes
        f.write_text(''.join(line for line in f.read_text().splitlines(True) if ' plane ' not in line))
    cfg = write_config(tmp_path, data, max_epochs=1)
    ckpt = toy_checkpoint(tmp_path / 'toy.pth')
    work = tmp_path / 'w'
    load_script('tools', 'train.py').main([cfg, '--work-dir', str(work), '--cfg-options', f'load_from={ckpt}',
                                           classes_option('train', ('tank', 'ship')),
                                           classes_option('val', ('tank', 'ship')), 'model.bbox_head.num_classes=2'])
    tuned = torch.load(work / 'epoch_1.pth', map_location='cpu', weights_only=False)
    assert tuple(tuned['meta']['dataset_meta']['classes']) == ('tank', 'ship')
    assert tuned['state_dict']['bbox_head.retina_cls.weight'].shape[0] == 12              # 6 anchors x 2 classes
