from .bbox import *  # noqa: F401,F403
from .bbox import __all__ as _bbox_all
from .cls_data_sample import ClsDataSample, format_label

__all__ = list(_bbox_all) + ['ClsDataSample', 'format_label']
