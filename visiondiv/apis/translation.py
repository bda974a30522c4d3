"""Load a trained CT -> MR translator from a checkpoint and translate slices with it.

A translator checkpoint is an ordinary mmengine checkpoint of a ``CycleGAN`` written by
``tools/train.py``: its ``meta['cfg']`` holds the config text, its ``state_dict`` the weights under
``generators.<target domain>.*``. Only the generator to the target domain is built and loaded.
"""
import os.path as osp
from typing import Union

import torch.nn as nn
from mmengine.config import Config

from visiondiv.datasets.transforms.intensity import translate_slices
from visiondiv.registry import FUNCTIONS, MODELS
from visiondiv.utils.checkpoint import (CheckpointMismatchError, checkpoint_state_dict, load_from_local,
                                        match_state_dict)

def _translator_config(checkpoint: str, ckpt: dict, config: Union[None, str, Config]) -> Config:
    if config is None:
        text = ckpt.get('meta', {}).get('cfg') if isinstance(ckpt.get('meta'), dict) else None
        if not text:
            raise ValueError(f'{checkpoint}: no config in meta.cfg (not written by tools/train.py?); '
                             'pass the translator config as config=')
        return Config.fromstring(text, '.py')
    return config if isinstance(config, Config) else Config.fromfile(config)


@FUNCTIONS.register_module()
def load_translator(checkpoint: str, target_domain: str = 'mr', device: str = 'cpu',
                    config: Union[None, str, Config] = None) -> nn.Module:
    """The generator translating to ``target_domain``, with its trained weights, in eval mode on ``device``.

    The checkpoint is read on the CPU; only its ``generators.<target_domain>.*`` weights are loaded, into the
    generator that ``model.generator`` of the config builds.

    Args:
        checkpoint (str): path of a ``CycleGAN`` checkpoint written by ``tools/train.py``.
        target_domain (str): the key of ``generators`` to load (``'mr'``: CT -> MR). Defaults to ``'mr'``.
        device (str): where the generator is moved, ``'cpu'``, ``'cuda'``... Defaults to ``'cpu'``.
        config (str | Config, optional): the translator config (a path or a ``Config``), needed when the
            checkpoint has none in ``meta['cfg']``; when given it is used instead of ``meta['cfg']``.
            Defaults to None.

    Returns:
        nn.Module: the generator, on ``device`` and in eval mode.

    Raises:
        FileNotFoundError: ``checkpoint`` does not exist.
        CheckpointMismatchError: the file holds no ``generators.<target_domain>`` weights (another
            architecture: its top-level modules are named), or they do not fit the configured generator
            (missing / unexpected keys, other shapes), naming the file.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'translator checkpoint not found: {checkpoint}')
    ckpt = load_from_local(checkpoint, map_location='cpu')
    if not isinstance(ckpt, dict):
        raise CheckpointMismatchError(f'{checkpoint}: not an mmengine checkpoint (a {type(ckpt).__name__})')
    state = checkpoint_state_dict(ckpt)
    prefix = f'generators.{target_domain}.'
    weights = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not weights:
        held = sorted({k.split('.')[0] if not k.startswith('generators.') else '.'.join(k.split('.')[:2])
                       for k in state})
        raise CheckpointMismatchError(f"{checkpoint}: no '{prefix}*' weights, so not a translator to "
                                      f"'{target_domain}'; the file holds {held}")
    cfg = _translator_config(checkpoint, ckpt, config)
    model_cfg = cfg.get('model', {})
    if 'generator' not in model_cfg:
        raise CheckpointMismatchError(f"{checkpoint}: its config's model ({model_cfg.get('type')}) has no "
                                      "'generator' entry")
    generator = MODELS.build(model_cfg['generator'])
    match = match_state_dict(generator.state_dict(), weights)
    if match.missing or match.unexpected or match.mismatched:
        raise CheckpointMismatchError(f"{checkpoint}: the '{prefix}*' weights do not fit the configured "
                                      f"{model_cfg['generator'].get('type')}: {match.summary()}")
    generator.load_state_dict(weights)
    return generator.to(device).eval()


__all__ = ['load_translator', 'translate_slices']
