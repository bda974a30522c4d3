from .patch_disc import PatchDiscriminator

__all__ = ['PatchDiscriminator']
