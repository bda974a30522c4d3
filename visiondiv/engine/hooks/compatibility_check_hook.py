"""A hook that stops a run whose checkpoint or data does not fit its model, instead of a silent wrong result."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import find_latest_checkpoint

from visiondiv.registry import HOOKS
from visiondiv.utils.checkpoint import MIN_MATCHED_FRACTION, check_checkpoint_fits
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


@HOOKS.register_module()
class CompatibilityCheckHook(Hook):
    """Refuse a checkpoint of another model and datasets whose classes the heads do not predict.

    mmengine's ``Runner.load_checkpoint`` is the one path by which ``load_from``
    (train and ``tools/test.py``) and ``--resume`` load weights, and it calls
    ``after_load_checkpoint`` with the loaded checkpoint before the weights go
    into the model; the check (:func:`~visiondiv.utils.checkpoint.check_checkpoint_fits`)
    runs there. The classes check runs on the built dataset and model at
    ``before_train``/``before_val``/``before_test``, before the first iteration.
    ``tools/train.py`` and ``tools/test.py`` add this hook to every config.

    Args:
        complete_checkpoint (bool): require the checkpoint to cover every model tensor
            (evaluation, resuming); otherwise at least ``min_matched`` of them (fine-tuning).
            Defaults to False.
        min_matched (float): the fraction of the model's tensors that must match by name and shape (checked
            in both cases). Defaults to ``MIN_MATCHED_FRACTION`` (0.5).
        checkpoint (str, optional): the checkpoint file, for messages; None: the config's ``load_from``, else
            the checkpoint auto-resumed from ``work_dir``. Defaults to None.
    """

    priority = 'VERY_HIGH'

    def __init__(self, complete_checkpoint: bool = False, min_matched: float = MIN_MATCHED_FRACTION,
                 checkpoint: Optional[str] = None) -> None:
        self.complete_checkpoint = complete_checkpoint
        self.min_matched = min_matched
        self.checkpoint = checkpoint
        self._checked = set()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Raise ``CheckpointMismatchError`` (naming the file) before a misfit checkpoint is loaded."""
        filename = self.checkpoint or _checkpoint_name(runner)
        check_checkpoint_fits(_unwrapped(runner.model), checkpoint, filename, complete=self.complete_checkpoint,
                              min_fraction=self.min_matched)

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
