"""Several independently augmented views of one image (SimGCD's ``ContrastiveLearningViewGenerator``)."""
import copy
from typing import Callable, List, Optional, Sequence, Union

from mmcv.transforms import BaseTransform, Compose

from visiondiv.registry import TRANSFORMS

__all__ = ['MultiView']


@TRANSFORMS.register_module()
class MultiView(BaseTransform):
    """Run the sub-pipeline ``transforms`` ``num_views`` times, each on its own copy of the results.

    Output: ``results['img']`` is the list of the views' images; every other key is the input's (as
    mmpretrain's ``MultiView``). The views are independent draws of the random transforms. If the sub-pipeline
    drops the sample (returns None) for some view, so does this transform.

    Args:
        transforms (Sequence[dict | Callable]): transform configs (built with visiondiv's ``TRANSFORMS``, so
            visiondiv's, mmcv's and prefixed ``mmseg.`` / ``mmdet.`` names resolve) or callables; a list,
            not a single dict.
        num_views (int): number of views (>= 1). Defaults to 2.

    Raises:
        ValueError: ``num_views`` is not an int >= 1.
        TypeError: ``transforms`` is not a sequence, or holds something neither a config dict nor callable.
    """

    def __init__(self, transforms: Sequence[Union[dict, Callable]], num_views: int = 2) -> None:
        if isinstance(num_views, bool) or not isinstance(num_views, int) or num_views < 1:
            raise ValueError(f'MultiView: num_views must be an int >= 1, got {num_views!r}')
        if isinstance(transforms, dict) or not isinstance(transforms, Sequence):
            raise TypeError(f'MultiView: transforms must be a list of transform configs, got {transforms!r}')
        built = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in transforms]
        for t, b in zip(transforms, built):
            if not callable(b):
                raise TypeError(f'MultiView: transform {t!r} is neither a config dict nor callable')
        self.num_views = num_views
        self.pipeline = Compose(built)

    def transform(self, results: dict) -> Optional[dict]:
        if 'img' not in results:
            raise KeyError(f"MultiView: results has no 'img'; present: {sorted(results)}")
        views: List = []
        for _ in range(self.num_views):
            out = self.pipeline(copy.deepcopy(results))
            if out is None:
                return None
            views.append(out['img'])
        results['img'] = views
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(num_views={self.num_views}, transforms={self.pipeline.transforms})'
