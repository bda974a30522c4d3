from .checkpoint import load_from_local
from .runner import AtomicCheckpointRunner, atomic_save_checkpoint
from .source_free import SourceFreeRunner, check_source_free

__all__ = ['AtomicCheckpointRunner', 'atomic_save_checkpoint', 'load_from_local', 'SourceFreeRunner',
           'check_source_free']
