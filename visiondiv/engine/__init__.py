from .checkpoint import load_from_local
from .runner import AtomicCheckpointRunner, atomic_save_checkpoint

__all__ = ["AtomicCheckpointRunner", "atomic_save_checkpoint", "load_from_local"]
