from .fp32_loss import FP32LossMixin, autocast_disabled, fp32_loss, to_fp32

__all__ = ['FP32LossMixin', 'autocast_disabled', 'fp32_loss', 'to_fp32']
