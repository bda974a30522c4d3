"""Visualizer that draws rotated (rbox) and quadrilateral (qbox) boxes as polygons."""
from typing import List, Optional

import numpy as np
import torch
from mmdet.structures.bbox import BaseBoxes
from mmdet.visualization import DetLocalVisualizer
from mmdet.visualization.palette import get_palette

from visiondiv.registry import VISUALIZERS
from visiondiv.structures.bbox import rbox2qbox


@VISUALIZERS.register_module()
class RotLocalVisualizer(DetLocalVisualizer):
    """mmdet's ``DetLocalVisualizer`` with rotated boxes drawn as polygons (mmrotate's name).

    The drawing keeps the image's own extent: mmengine's ``set_image`` shows the
    image on axes that matplotlib autoscales, so a polygon that leaves the image
    (a rotated box crossing the border) widened the view limits at the next
    draw, and the saved PNG showed the image shrunk and shifted inside white
    margins. Autoscaling is turned off once the image is set, and what leaves
    the image is cut at its border.
    """

    def set_image(self, image: np.ndarray) -> None:
        """Set the image to draw on; the view stays on its extent whatever is drawn after.

        Args:
            image (np.ndarray): the (H, W, 3) RGB image.
        """
        super().set_image(image)
        self.ax_save.set_xlim(0, self.width)
        self.ax_save.set_ylim(self.height, 0)
        self.ax_save.set_autoscale_on(False)

    def _draw_instances(self, image: np.ndarray, instances, classes: Optional[List[str]],
                        palette: Optional[List[tuple]]) -> np.ndarray:
        bboxes = instances.get('bboxes', None)
        tensor = bboxes.tensor if isinstance(bboxes, BaseBoxes) else bboxes
        if tensor is None or tensor.size(-1) not in (5, 8):
            return super()._draw_instances(image, instances, classes, palette)
        self.set_image(image)
        if len(tensor) == 0:
            return self.get_image()
        quads = rbox2qbox(tensor.float()) if tensor.size(-1) == 5 else tensor.float()
        quads = quads.reshape(-1, 4, 2).cpu()
        labels = instances.labels
        max_label = int(labels.max()) if len(labels) else 0
        colour_src = palette if self.bbox_color is None else self.bbox_color
        colours = [get_palette(colour_src, max_label + 1)[int(lb)] for lb in labels]
        text_palette = get_palette(self.text_color, max_label + 1)
        self.draw_polygons(list(quads), edge_colors=colours, alpha=self.alpha, line_widths=self.line_width)
        top_left = quads[torch.arange(len(quads)), quads[..., 1].argmin(-1)]
        for i, (pos, label) in enumerate(zip(top_left, labels)):
            text = classes[label] if classes is not None else f'class {label}'
            if 'scores' in instances:
                text += f': {round(float(instances.scores[i]) * 100, 1)}'
            self.draw_texts(text, pos, colors=text_palette[int(label)], font_sizes=10,
                            bboxes=[{'facecolor': 'black', 'alpha': 0.8, 'pad': 0.7, 'edgecolor': 'none'}])
        return self.get_image()
