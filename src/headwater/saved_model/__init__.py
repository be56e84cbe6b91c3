"""`tf.saved_model`: export a trained model as a directory that can be served on its own.

    tf.saved_model.simple_save(sess, "export/1", inputs={"x": x}, outputs={"y": y})
    ...
    with tf.Session(graph=tf.Graph()) as sess:
        meta = tf.saved_model.loader.load(sess, [tf.saved_model.tag_constants.SERVING],
                                          "export/1")
        sig = meta.signature_def["serving_default"]
        sess.run(sig.outputs["y"].name, {sig.inputs["x"].name: data})

The directory layout is documented in `headwater.saved_model.builder`.
"""

from headwater.saved_model import (builder, constants, loader, signature_constants,  # noqa: F401
                                   signature_def_utils, tag_constants, utils)
from headwater.saved_model.builder import Builder, SavedModelBuilder  # noqa: F401
from headwater.saved_model.loader import load, maybe_saved_model_directory  # noqa: F401
from headwater.saved_model.signature_constants import *  # noqa: F401,F403
from headwater.saved_model.signature_def_utils import (  # noqa: F401
    build_signature_def, classification_signature_def, is_valid_signature,
    predict_signature_def, regression_signature_def)
from headwater.saved_model.simple_save import simple_save  # noqa: F401
from headwater.saved_model.tag_constants import *  # noqa: F401,F403
from headwater.saved_model.utils import build_tensor_info, get_tensor_from_tensor_info  # noqa: F401

__all__ = ["Builder", "SavedModelBuilder", "build_signature_def", "build_tensor_info",
           "builder", "classification_signature_def", "get_tensor_from_tensor_info",
           "is_valid_signature", "load", "loader", "maybe_saved_model_directory",
           "predict_signature_def", "regression_signature_def", "signature_constants",
           "signature_def_utils", "simple_save", "tag_constants", "utils"]
