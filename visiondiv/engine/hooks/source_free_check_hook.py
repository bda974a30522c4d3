"""A hook that refuses to run a source-free adaptation whose config could read source data."""
from typing import Any, Iterator, Tuple

from mmengine.hooks import Hook
from mmengine.runner import find_latest_checkpoint

from visiondiv.utils.validation import normalize_domain
from visiondiv.registry import HOOKS

#: top-level keys that would feed the adaptation with source data
_SOURCE_KEYS = ('source_dataloader', 'source_dataset')


def _datasets(node: Any, path: str) -> Iterator[Tuple[str, dict]]:
    if isinstance(node, dict):
        if 'type' in node and ('img_dir' in node or 'label_dir' in node or 'domain' in node
                               or str(node.get('type', '')).endswith('Dataset')):
            yield path, node
        for k, v in node.items():
            yield from _datasets(v, f'{path}.{k}')
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _datasets(v, f'{path}[{i}]')


def check_source_free(cfg) -> None:
    """Raise if the adaptation config could read source data or labels during training.

    Refused: a ``source_dataloader``/``source_dataset`` key; a training dataset marked
    ``domain='source'`` (in any case, blanks ignored); a training ``MedicalSliceDataset`` with labels
    (``label_dir`` not None, its default ``'labels'`` included); no ``train_dataloader`` at all. The
    datasets looked at are the dicts under ``train_dataloader`` with a ``type`` and an ``img_dir``,
    ``label_dir`` or ``domain`` key, or a ``type`` ending in ``Dataset``. Labelled *target* data stays
    allowed for validation and testing.

    Args:
        cfg (Config | dict): the full config of the adaptation run.

    Raises:
        ValueError: naming the config file and the key at fault.
    """
    source = getattr(cfg, 'filename', None) or '<config>'
    for key in _SOURCE_KEYS:
        if key in cfg:
            raise ValueError(f"{source}: source-free adaptation must not configure source data ('{key}')")
    train = cfg.get('train_dataloader')
    if train is None:
        raise ValueError(f"{source}: source-free adaptation needs a train_dataloader of unlabelled target images")
    node = train.to_dict() if hasattr(train, 'to_dict') else train
    for path, ds in _datasets(node, 'train_dataloader'):
        if normalize_domain(ds.get('domain')) == 'source':
            raise ValueError(f"{source}: '{path}' is a source dataset (domain='source'); "
                             'adaptation must not read source images')
        if ds.get('label_dir', 'labels') is not None and str(ds.get('type', '')).endswith('MedicalSliceDataset'):
            raise ValueError(f"{source}: '{path}.label_dir' must be None: adaptation trains on unlabelled "
                             'target images only')


def check_adapts_a_checkpoint(cfg, work_dir: str) -> None:
    """Raise if the adaptation would start from a randomly initialised network.

    Adaptation needs the source model: ``load_from``, or ``resume`` with a checkpoint to resume from
    in ``work_dir`` (mmengine's auto-resume silently loads nothing when there is none).

    Args:
        cfg (Config | dict): the full config of the adaptation run.
        work_dir (str): the run's work folder, searched for the latest checkpoint when ``resume`` is set.

    Raises:
        ValueError: naming the config file and ``load_from``.
    """
    source = getattr(cfg, 'filename', None) or '<config>'
    if cfg.get('load_from'):
        return
    if cfg.get('resume'):
        if find_latest_checkpoint(work_dir) is None:
            raise ValueError(f"{source}: resume=True but {work_dir} holds no checkpoint and 'load_from' is not set: "
                             'the adaptation would start from a random network')
        return
    raise ValueError(f"{source}: source-free adaptation needs the source model: set 'load_from' to its checkpoint "
                     '(or resume an adaptation run); without it the network is random')


@HOOKS.register_module()
class SourceFreeCheckHook(Hook):
    """Check the runner's config with :func:`check_source_free` before the run starts.

    Add it to source-free adaptation configs::

        custom_hooks = [dict(type='SourceFreeCheckHook')]

    At ``before_run`` (before weights are loaded and before the first
    iteration) it raises ``ValueError`` if the config configures source data
    or labelled training data (:func:`check_source_free`), or has no
    ``load_from`` (nor a run to resume) and so would adapt a random network
    (:func:`check_adapts_a_checkpoint`). mmengine calls ``before_run`` after it has
    built the dataloaders, so a refused config's datasets have been
    instantiated (``MedicalSliceDataset`` reads its volumes then), but no
    training step has run. It checks ``runner.cfg``, so the runner must be
    built from the config (``Runner.from_cfg``, as ``tools/train.py`` does).
    """

    # before every other hook's before_run, so nothing is set up for a run that is refused
    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        """Raise ``ValueError`` if ``runner.cfg`` could feed the adaptation with source data, or would
        adapt a random network."""
        if not runner.cfg:
            raise ValueError('SourceFreeCheckHook checks the config the runner was built from, but this runner '
                             'has none: build it with Runner.from_cfg(cfg)')
        check_source_free(runner.cfg)
        check_adapts_a_checkpoint(runner.cfg, runner.work_dir)
