"""`simple_save`: the one-call SavedModel export for prediction (TF1)."""

from __future__ import annotations

from headwater.framework import ops as _ops
from headwater.saved_model import signature_constants, signature_def_utils, tag_constants
from headwater.saved_model.builder import SavedModelBuilder

__all__ = ["simple_save"]


def simple_save(session, export_dir, inputs, outputs, legacy_init_op=None):
    """Save `session`'s model for serving: tag SERVING, one predict signature
    ("serving_default") from the {key: Tensor} `inputs` and `outputs`, devices cleared.

    Raises:
      AssertionError: if `export_dir` exists and is not empty.
    """
    signature_def_map = {
        signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY:
            signature_def_utils.predict_signature_def(inputs, outputs)}
    b = SavedModelBuilder(export_dir)
    b.add_meta_graph_and_variables(
        session, tags=[tag_constants.SERVING], signature_def_map=signature_def_map,
        assets_collection=_ops.get_collection(_ops.GraphKeys.ASSET_FILEPATHS),
        main_op=legacy_init_op, clear_devices=True)
    b.save()
