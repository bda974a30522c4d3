from .runner import AtomicCheckpointRunner, atomic_save_checkpoint

__all__ = ['AtomicCheckpointRunner', 'atomic_save_checkpoint']
