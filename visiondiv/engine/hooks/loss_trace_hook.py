"""Write every training iteration's losses at full precision, to compare two runs iteration by iteration."""
import json
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from visiondiv.registry import HOOKS


@HOOKS.register_module()
class LossTraceHook(Hook):
    """Append ``{"iter": i, "loss": ..., ...}`` per training iteration to ``work_dir/filename`` (JSON lines).

    mmengine's log shows a window mean to 4 decimals, which hides where two runs part; this trace keeps each
    iteration's values exactly (float32 widened to float64 round-trips through JSON), so
    ``tools/analysis_tools/compare_loss_traces.py`` can name the first iteration at which two runs differ.
    Only the main process writes.

    Args:
        filename (str): File name under the work dir. Defaults to 'loss_trace.jsonl'.
        max_iters (int, optional): Stop tracing after this many iterations (None: all). Defaults to None.
    """

    priority = 'VERY_LOW'

    def __init__(self, filename: str = 'loss_trace.jsonl', max_iters: Optional[int] = None) -> None:
        if max_iters is not None and max_iters < 1:
            raise ValueError(f'LossTraceHook: max_iters must be >= 1 or None, got {max_iters}')
        self.filename = filename
        self.max_iters = max_iters
        self._file = None

    def before_train(self, runner) -> None:
        """Open the trace (appending when the run resumes)."""
        if is_main_process():
            self._file = open(osp.join(runner.work_dir, self.filename), 'a')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs: Optional[dict] = None) -> None:
        """Write this iteration's logged values (the model's ``log_vars``)."""
        if self._file is None or not outputs or (self.max_iters is not None and runner.iter >= self.max_iters):
            return
        record = {'iter': runner.iter}
        record.update({key: float(value) for key, value in outputs.items()})
        self._file.write(json.dumps(record) + '\n')
        self._file.flush()

    def after_train(self, runner) -> None:
        """Close the trace."""
        if self._file is not None:
            self._file.close()
            self._file = None
