"""tools/model_converters/publish_model.py strips training state and appends the sha256 prefix."""
import hashlib
import os.path as osp
import re

import pytest
import torch

from tests.script_loader import load_script


def load():
    return load_script('tools', 'model_converters', 'publish_model.py')


def _checkpoint(path):
    state = {'conv.weight': torch.randn(4, 3, 3, 3), 'conv.bias': torch.zeros(4)}
    ckpt = {'meta': {'epoch': 12, 'dataset_meta': {'classes': ('ship',)}}, 'state_dict': state,
            'optimizer': {'state': {0: {'exp_avg': torch.ones(4)}}, 'param_groups': [{'lr': 0.1}]},
            'message_hub': {'log_scalars': {'loss': 1.0}}, 'param_schedulers': [{'last_step': 3}]}
    torch.save(ckpt, path)
    return ckpt


def test_strips_training_state_and_names_file_by_hash(tmp_path, capsys):
    tool = load()
    src = tmp_path / 'epoch_12.pth'
    ckpt = _checkpoint(src)
    final = tool.process_checkpoint(str(src), str(tmp_path / 'out' / 'kld_dota.pth'))
    m = re.fullmatch(r'kld_dota-([0-9a-f]{8})\.pth', osp.basename(final))
    assert m, final
    with open(final, 'rb') as f:
        assert m.group(1) == hashlib.sha256(f.read()).hexdigest()[:8]
    assert not osp.exists(tmp_path / 'out' / 'kld_dota.pth')       # renamed, not copied
    published = torch.load(final, map_location='cpu', weights_only=False)
    assert set(published) == {'meta', 'state_dict'}
    assert published['meta'] == ckpt['meta']
    for k, v in ckpt['state_dict'].items():
        assert torch.equal(published['state_dict'][k], v)
    assert 'message_hub, optimizer, param_schedulers' in capsys.readouterr().out


def test_save_keys_and_name_without_pth(tmp_path):
    tool = load()
    src = tmp_path / 'latest.pth'
    _checkpoint(src)
    final = tool.process_checkpoint(str(src), str(tmp_path / 'model'), save_keys=['state_dict', 'message_hub'])
    assert re.fullmatch(r'model-[0-9a-f]{8}\.pth', osp.basename(final))
    assert set(torch.load(final, map_location='cpu', weights_only=False)) == {'state_dict', 'message_hub'}


def test_cli_and_refusals(tmp_path):
    tool = load()
    src = tmp_path / 'a.pth'
    _checkpoint(src)
    tool.main([str(src), str(tmp_path / 'b.pth')])
    assert len(list(tmp_path.glob('b-*.pth'))) == 1
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        tool.process_checkpoint(str(tmp_path / 'missing.pth'), str(tmp_path / 'c.pth'))
    torch.save({'weights': torch.zeros(1)}, tmp_path / 'plain.pth')
    with pytest.raises(KeyError, match='plain.pth'):
        tool.process_checkpoint(str(tmp_path / 'plain.pth'), str(tmp_path / 'd.pth'))


def test_checkpoint_is_checked_against_its_config(tmp_path, capsys):
    """Issue 21, item 1: publish only a checkpoint that loads into its config's model, with its classes."""
    from mmengine.config import Config

    from tests.test_tools.test_checkpoint_classes import toy_checkpoint
    from tests.test_tools.test_train_robustness import BASE, unet_checkpoint
    from visiondiv.utils.checkpoint import CheckpointMismatchError
    tool = load()
    good = toy_checkpoint(tmp_path / 'toy.pth')
    final = tool.process_checkpoint(good, str(tmp_path / 'pub' / 'toy.pth'), config=BASE)
    assert osp.isfile(final)
    unet = unet_checkpoint(tmp_path / 'unet.pth')
    with pytest.raises(CheckpointMismatchError, match=f'{unet}: not a checkpoint of this model'):
        tool.main([unet, str(tmp_path / 'pub' / 'unet.pth'), '--config', BASE])
    # without --config: the config the runner saved in the checkpoint (meta.cfg)
    ckpt = torch.load(unet, weights_only=False)
    ckpt['meta']['cfg'] = Config.fromfile(BASE).pretty_text
    torch.save(ckpt, unet)
    with pytest.raises(CheckpointMismatchError, match=f'{unet}: not a checkpoint of this model'):
        tool.main([unet, str(tmp_path / 'pub' / 'unet.pth')])
    assert not list((tmp_path / 'pub').glob('unet*'))
    src = tmp_path / 'plain_meta.pth'
    _checkpoint(src)
    tool.main([str(src), str(tmp_path / 'pub' / 'plain.pth')])
    assert 'not checked against a model (no meta.cfg in it): pass --config CONFIG' in capsys.readouterr().out
