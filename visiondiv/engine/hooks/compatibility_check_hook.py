"""A hook that stops a run whose checkpoint or data does not fit its model, instead of a silent wrong result."""
from typing import Optional, Tuple

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner.base_loop import BaseLoop
from mmengine.runner.checkpoint import find_latest_checkpoint

from visiondiv.registry import HOOKS
from visiondiv.utils.checkpoint import MIN_MATCHED_FRACTION, check_checkpoint
from visiondiv.utils.validation import check_num_classes


def _unwrapped(model):
    return model.module if is_model_wrapper(model) else model


def _checkpoint_name(runner) -> str:
    """The file ``Runner.load_or_resume`` loads (the hook call does not pass it): ``load_from``, else the
    auto-resumed one; a runner built without a config keeps ``load_from`` only in ``_load_from``."""
    name = runner.cfg.get('load_from') or getattr(runner, '_load_from', None)
    if not name and getattr(runner, '_resume', False):
        name = find_latest_checkpoint(runner.work_dir)
    return name or '<checkpoint>'


def _loop_classes(runner) -> Tuple[Optional[tuple], str]:
    """(classes, dataloader key) of the dataset the runner's current job reads: the loops that
    ``train()``, ``test()`` and ``val()`` have built before they load a checkpoint (train first)."""
    for attr, key in (('_train_loop', 'train_dataloader'), ('_test_loop', 'test_dataloader'),
                      ('_val_loop', 'val_dataloader')):
        loop = getattr(runner, attr, None)
        if isinstance(loop, BaseLoop):
            classes = (getattr(loop.dataloader.dataset, 'metainfo', None) or {}).get('classes')
            return (tuple(classes) if classes else None), f'{key}.dataset'
    return None, 'the dataset'


@HOOKS.register_module()
class CompatibilityCheckHook(Hook):
    """Refuse a checkpoint of another model or of other classes, and datasets whose classes the heads do not predict.

    mmengine's ``Runner.load_checkpoint`` is the one path by which ``load_from``
    (train and ``tools/test.py``) and ``--resume`` load weights, and it calls
    ``after_load_checkpoint`` with the loaded checkpoint before the weights go
    into the model; the check (:func:`~visiondiv.utils.checkpoint.check_checkpoint`)
    runs there: the checkpoint must be this model's, and the classes it was
    trained on (``meta.dataset_meta.classes``) those of the dataset being
    trained or tested, in the same order (a reorder is remapped with
    ``remap_classes``; another number of classes is a fine-tune start when the
    checkpoint need not be complete). The head-against-dataset check runs on
    the built dataset and model at ``before_train``/``before_val``/``before_test``,
    before the first iteration. ``tools/train.py`` and ``tools/test.py`` add this
    hook to every config, with the config's ``remap_classes`` and
    ``ignore_checkpoint_classes``.

    Args:
        complete_checkpoint (bool): require the checkpoint to cover every model tensor
            (evaluation, resuming); otherwise at least ``min_matched`` of them (fine-tuning).
            Defaults to False.
        min_matched (float): the fraction of the model's tensors that must match by name and shape (checked
            in both cases). Defaults to ``MIN_MATCHED_FRACTION`` (0.5).
        checkpoint (str, optional): the checkpoint file, for messages; None: the config's ``load_from``, else
            the checkpoint auto-resumed from ``work_dir``. Defaults to None.
        remap_classes (bool): permute the classifier rows of a checkpoint trained on the dataset's class names
            in another order to the dataset's order. Defaults to False.
        ignore_checkpoint_classes (bool): load a checkpoint trained on other class names as it is.
            Defaults to False.
    """

    priority = 'VERY_HIGH'

    def __init__(self, complete_checkpoint: bool = False, min_matched: float = MIN_MATCHED_FRACTION,
                 checkpoint: Optional[str] = None, remap_classes: bool = False,
                 ignore_checkpoint_classes: bool = False) -> None:
        self.complete_checkpoint = complete_checkpoint
        self.remap_classes = remap_classes
        self.ignore_checkpoint_classes = ignore_checkpoint_classes
        self.min_matched = min_matched
        self.checkpoint = checkpoint
        self._checked = set()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Raise ``CheckpointMismatchError`` (naming the file) before a misfit checkpoint is loaded.

        A remap (``remap_classes``) permutes the classifier rows of ``checkpoint`` in place, before mmengine
        loads them.
        """
        filename = self.checkpoint or _checkpoint_name(runner)
        classes, source = _loop_classes(runner)
        check_checkpoint(_unwrapped(runner.model), checkpoint, filename, complete=self.complete_checkpoint,
                         min_fraction=self.min_matched, classes=classes, classes_source=source,
                         remap_classes=self.remap_classes, ignore_checkpoint_classes=self.ignore_checkpoint_classes)

    def _check_classes(self, runner, key: str, dataloader) -> None:
        if key in self._checked:
            return
        source = getattr(runner.cfg, 'filename', None) or '<config>'
        check_num_classes(_unwrapped(runner.model), getattr(dataloader.dataset, 'metainfo', None),
                          f'{key}.dataset', source)
        self._checked.add(key)

    def before_train(self, runner) -> None:
        """Check the training dataset's classes against the heads."""
        self._check_classes(runner, 'train_dataloader', runner.train_dataloader)

    def before_val(self, runner) -> None:
        """Check the validation dataset's classes against the heads (once)."""
        self._check_classes(runner, 'val_dataloader', runner.val_dataloader)

    def before_test(self, runner) -> None:
        """Check the test dataset's classes against the heads."""
        self._check_classes(runner, 'test_dataloader', runner.test_dataloader)
