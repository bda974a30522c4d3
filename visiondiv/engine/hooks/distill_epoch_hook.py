"""The per-epoch state of the distillation losses of ``SingleTeacherDistill``: warm-up, WKD decay, class prior."""
from typing import Dict, Optional, Sequence, Union

from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import IterBasedTrainLoop
from torch import nn

from visiondiv.registry import HOOKS


@HOOKS.register_module()
class DistillEpochHook(Hook):
    """Drive the epoch-dependent state of the distillation losses (``model.distill_losses``).

    - Before each train epoch, every loss with ``set_epoch`` (DKD's and DKL/GKL's linear warm-up,
      :class:`~visiondiv.models.losses.kd_loss.EpochWarmup`; WKD's cosine decay of its distance weight,
      ``WassersteinKDLoss(wd_decay=...)``) gets ``set_epoch(runner.epoch + 1)`` (mdistiller counts epochs from
      1, mmengine's ``runner.epoch`` from 0; mmengine restores it on resume, so a resumed run continues the
      schedule: the factor is a function of the epoch alone). The factor is logged as
      ``train/<name>_<epoch_factor_name>`` (the loss's attribute; ``warmup`` when it has none).
    - After each train iteration, every loss with ``accumulate_class_prior`` (GKL) adds the teacher logits
      and labels of that iteration, which the model exposes as ``last_teacher_logits`` and ``last_gt_labels``
      (``SingleTeacherDistill`` keeps those of its last training ``loss()``; the hook clears them once read, so
      a batch is counted once). The model, not a forward hook on the teacher, hands them over: it alone knows
      which logits and labels the losses saw.
    - After each train epoch those losses publish the epoch's per-class mean teacher probabilities
      (``step_class_prior``); the first epoch uses the uniform prior the model set at build. In a
      distributed run the sums are added over the processes first, so every process uses the same prior.
      The hook runs at NORMAL priority, before ``CheckpointHook`` (VERY_LOW) saves the epoch's checkpoint,
      which therefore holds the new prior (the loss's persistent ``class_prior`` buffer). The running sums are
      not saved and restart at each epoch: mmengine's ``EpochBasedTrainLoop`` resumes a checkpoint taken
      mid-epoch (``CheckpointHook(by_epoch=False)``) by re-running that epoch from its first batch, with the
      prior the checkpoint holds (the one that epoch used), so the re-run sums every batch once.

    Args:
        loss_names (Sequence[str], optional): the losses of ``model.distill_losses`` to drive; None: all.
            Defaults to None.
        priority (int | str): hook priority. Defaults to ``'NORMAL'``.

    Raises:
        AttributeError: (at ``before_train``) a model without ``distill_losses``.
        KeyError: (at ``before_train``) a name of ``loss_names`` not in ``distill_losses``.
    """

    def __init__(self, loss_names: Optional[Sequence[str]] = None, priority: Union[int, str] = 'NORMAL') -> None:
        self.loss_names = None if loss_names is None else list(loss_names)
        self.priority = priority

    @staticmethod
    def _model(runner) -> nn.Module:
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def _losses(self, runner) -> Dict[str, nn.Module]:
        model = self._model(runner)
        losses = getattr(model, 'distill_losses', None)
        if losses is None:
            raise AttributeError(f'DistillEpochHook: the model ({type(model).__name__}) has no distill_losses; '
                                 'use it with SingleTeacherDistill')
        if self.loss_names is None:
            return dict(losses.items())
        unknown = [n for n in self.loss_names if n not in losses]
        if unknown:
            raise KeyError(f'DistillEpochHook: loss_names {unknown} are not in the model\'s distill_losses '
                           f'{list(losses)}')
        return {n: losses[n] for n in self.loss_names}

    def before_train(self, runner) -> None:
        """Fail before the first iteration: a model without the losses, or an iteration-based loop."""
        self._losses(runner)
        if isinstance(getattr(runner, 'train_loop', None), IterBasedTrainLoop):
            raise ValueError('DistillEpochHook: the warm-up, the decay and the class prior are per epoch, but the '
                             'train loop is an IterBasedTrainLoop; use an epoch-based train_cfg')

    def before_train_epoch(self, runner) -> None:
        """``set_epoch(runner.epoch + 1)`` on the losses that have it; class-prior sums start from zero."""
        for name, loss in self._losses(runner).items():
            if hasattr(loss, 'reset_class_prior_sums'):
                loss.reset_class_prior_sums()
            if hasattr(loss, 'set_epoch'):
                factor = loss.set_epoch(runner.epoch + 1)
                hub = getattr(runner, 'message_hub', None)
                if hub is not None and factor is not None:
                    key = getattr(loss, 'epoch_factor_name', 'warmup')
                    hub.update_scalar(f'train/{name}_{key}', float(factor))

    def after_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Add the model's last teacher logits and labels to the losses' class-prior sums.

        Args:
            runner (Runner): the runner.
            batch_idx (int): the iteration's index in the epoch.
            data_batch (dict, optional): the batch. Defaults to None.
            outputs (dict, optional): the logged losses. Defaults to None.
        """
        model = self._model(runner)
        logits, labels = getattr(model, 'last_teacher_logits', None), getattr(model, 'last_gt_labels', None)
        if logits is None or labels is None:
            return
        for loss in self._losses(runner).values():
            if hasattr(loss, 'accumulate_class_prior'):
                loss.accumulate_class_prior(logits, labels)
        model.last_teacher_logits = model.last_gt_labels = None

    def after_train_epoch(self, runner) -> None:
        """Publish the epoch's class priors (sums added over the processes first)."""
        for loss in self._losses(runner).values():
            if hasattr(loss, 'step_class_prior'):
                sums = getattr(loss, '_prior_sum', None)
                if sums is not None and get_world_size() > 1:
                    all_reduce(sums, op='sum')
                loss.step_class_prior()
