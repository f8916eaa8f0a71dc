"""Classification + localization, the lecture's section 4: one network, two heads.

The lecture formulates localizing one object as a regression: besides the class, predict a bounding box of
4 numbers (centre x, centre y, height, width). Its example takes Xception without its top, a global average
pooling, and two dense heads on the pooled 2048 features: ``Dense(n_classes, activation="softmax")`` and
``Dense(4)``, trained with cross-entropy + MSE (weights 0.8 / 0.2; IoU is the better measure). Built here the
same way on the zoo's Xception: the model returns ``(class probabilities, box)``, both read from one pooled
feature vector, so the box costs 2048 x 4 MACs and 8,196 parameters on top of the classifier.
"""
from __future__ import annotations

import torch
from torch import nn

from .registry import Published, register_model
from .xception import Xception

PAPER = ("A. Géron, \"Hands-On Machine Learning with Scikit-Learn, Keras and TensorFlow\", 2nd ed., O'Reilly "
         "2019, ch. 14 (the lecture's classification + localization example, on F. Chollet's Xception, CVPR 2017)")
BOX = 4  # centre x, centre y, height, width


class ClassifyAndLocalize(nn.Module):
    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.base = Xception(num_classes)
        self.base.fc = nn.Identity()  # include_top=False: the pooled 2048 features
        self.classes = nn.Linear(2048, num_classes)
        self.box = nn.Linear(2048, BOX)

    def forward(self, x: torch.Tensor) -> tuple:
        features = self.base(x)
        return torch.softmax(self.classes(features), dim=1), self.box(features)


@register_model(family="localization", paper=PAPER, input_size=(3, 299, 299),
                published=Published(params=22_855_952 + 2048 * BOX + BOX,
                                    source="Xception's 22,855,952 (paper Table 3) + the box head's 2048 x 4 "
                                           "weights and 4 biases"))
def xception_localization(num_classes: int = 1000) -> nn.Module:
    """Xception with a class head and a 4-number bounding-box head (the lecture's section 4)"""
    return ClassifyAndLocalize(num_classes)
