"""The lecture's Keras transfer-learning models, as ``cnnprofile`` profiles them (random weights).

The lecture loads ``Xception(weights="imagenet", include_top=False)``; here the weights are random (nothing is
downloaded), which changes no shape, parameter or operation count. Profile with, for example::

    cnnprofile table examples/keras_flowers.py:flowers
    cnnprofile memory examples/keras_flowers.py:flowers --train --optimizer sgd-momentum
    cnnprofile memory examples/keras_flowers.py:flowers --train --optimizer sgd-momentum --kwargs '{"frozen": false}'

Keras runs on its torch backend (``KERAS_BACKEND=torch``, which cnnprofile sets when it is unset).
"""
import keras

# The lecture resizes the flower images to 224 x 224 for Xception; Keras takes them channels-last.
INPUT_SIZE = (224, 224, 3)
N_CLASSES = 5  # tf_flowers: dandelion, daisy, tulips, sunflowers, roses


def flowers(n_classes: int = N_CLASSES, frozen: bool = True) -> keras.Model:
    """Xception's convolutional base, a new global average pooling and a softmax layer; with ``frozen`` the
    base's layers are not trainable (the lecture's first phase), without it they are (fine-tuning)."""
    base_model = keras.applications.xception.Xception(weights=None, include_top=False)
    avg = keras.layers.GlobalAveragePooling2D()(base_model.output)
    output = keras.layers.Dense(n_classes, activation="softmax")(avg)
    model = keras.Model(inputs=base_model.input, outputs=output)
    for layer in base_model.layers:
        layer.trainable = not frozen
    return model


def localization(n_classes: int = N_CLASSES) -> keras.Model:
    """Classification and localization: the same base with two heads, the class probabilities and the four
    numbers of a bounding box."""
    base_model = keras.applications.xception.Xception(weights=None, include_top=False)
    avg = keras.layers.GlobalAveragePooling2D()(base_model.output)
    class_output = keras.layers.Dense(n_classes, activation="softmax")(avg)
    loc_output = keras.layers.Dense(4)(avg)
    return keras.Model(inputs=base_model.input, outputs=[class_output, loc_output])
