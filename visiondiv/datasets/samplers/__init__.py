from .gcd_balanced_sampler import GCDBalancedSampler

__all__ = ['GCDBalancedSampler']
