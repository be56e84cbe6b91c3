"""`SavedModelBuilder`: write a servable model directory.

Layout (format version 1)::

    export_dir/
      saved_model.json            {"format": "headwater.SavedModel", "version": 1,
                                   "meta_graphs": [<meta graph JSON with meta_info_def.tags>]}
      variables/variables.index   the variables checkpoint (see headwater.train.saver)
      variables/variables.safetensors

`saved_model.json` is written last (atomically), so a directory whose export was interrupted
has no `saved_model.json` and is never mistaken for a model.
"""

from __future__ import annotations

import os

from headwater.framework import ops as _ops
from headwater.framework.meta_graph import MetaInfoDef, SignatureDef, export_meta_graph
from headwater.saved_model import constants

__all__ = ["SavedModelBuilder"]


def _variables_prefix(export_dir):
    return os.path.join(export_dir, constants.VARIABLES_DIRECTORY, constants.VARIABLES_FILENAME)


class SavedModelBuilder:
    """Builds a SavedModel directory: one set of variables plus one or more meta graphs.

    Args:
      export_dir: the directory to create; it must not exist or be empty.
    Raises:
      AssertionError: if `export_dir` exists and is not empty (as TF1).
    """

    def __init__(self, export_dir):
        export_dir = os.fspath(export_dir)
        if os.path.exists(export_dir):
            if os.listdir(export_dir):
                raise AssertionError(
                    "Export directory already exists, and isn't empty. Please choose a "
                    "different export directory, or delete all the contents of the specified "
                    "directory: %s" % export_dir)
        else:
            os.makedirs(export_dir)
        self._export_dir = export_dir
        self._meta_graphs = []
        self._has_saved_variables = False
        self._saver_def = None

    def _meta_graph(self, graph, tags, signature_def_map, main_op, legacy_init_op,
                    clear_devices, saver_def):
        signature_def_map = dict(signature_def_map or {})
        for k, v in signature_def_map.items():
            if not isinstance(v, SignatureDef):
                raise TypeError("signature_def_map[%r] must be a SignatureDef, got %r" % (k, v))
            for info in list(v.inputs.values()) + list(v.outputs.values()):
                graph.get_tensor_by_name(info.name)  # raises for foreign tensors
        if isinstance(tags, str):
            tags = [tags]
        mg = export_meta_graph(graph=graph, saver_def=saver_def, clear_devices=clear_devices,
                               meta_info_def=MetaInfoDef(tags=list(tags)),
                               signature_def=signature_def_map)
        for key, op in ((constants.MAIN_OP_KEY, main_op),
                        (constants.LEGACY_INIT_OP_KEY, legacy_init_op)):
            if op is not None:
                if isinstance(op, _ops.Tensor):
                    op = op.op
                if not isinstance(op, _ops.Operation):
                    raise TypeError("%s needs to be an Operation: %r" % (key, op))
                mg.collection_def[key] = [{"op": op.name}]
        self._meta_graphs.append(mg)
        return mg

    def add_meta_graph_and_variables(self, sess, tags, signature_def_map=None,
                                     assets_collection=None, legacy_init_op=None,
                                     clear_devices=False, main_op=None,
                                     strip_default_attrs=False, saver=None):
        """Save the variables of `sess` and the first meta graph (tagged `tags`).

        Args:
          sess: the Session with the variables' values.
          tags: list of tags of this meta graph (e.g. [tag_constants.SERVING]).
          signature_def_map: {key: SignatureDef}.
          legacy_init_op / main_op: an op run after the variables are restored on load.
          clear_devices: drop device placements.
          saver: the Saver to save with (default: one over all global variables).
        """
        if self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has already been "
                                 "saved. Please invoke `add_meta_graph()` instead.")
        from headwater.train.saver import Saver

        graph = sess.graph
        with graph.as_default():
            if saver is None:
                saver = Saver(allow_empty=True, max_to_keep=None)
        os.makedirs(os.path.join(self._export_dir, constants.VARIABLES_DIRECTORY),
                    exist_ok=True)
        saver.save(sess, _variables_prefix(self._export_dir), write_meta_graph=False,
                   write_state=False)
        self._saver_def = saver.saver_def
        self._meta_graph(graph, tags, signature_def_map, main_op, legacy_init_op,
                         clear_devices, saver.saver_def)
        self._has_saved_variables = True

    def add_meta_graph(self, tags, signature_def_map=None, assets_collection=None,
                       legacy_init_op=None, clear_devices=False, main_op=None,
                       strip_default_attrs=False, saver=None):
        """Add another meta graph (of the default graph) sharing the saved variables."""
        if not self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has not been "
                                 "saved yet. Please invoke `add_meta_graph_and_variables()` "
                                 "first.")
        saver_def = saver.saver_def if saver is not None else self._saver_def
        self._meta_graph(_ops.get_default_graph(), tags, signature_def_map, main_op,
                         legacy_init_op, clear_devices, saver_def)

    def save(self, as_text=False):
        """Write saved_model.json (atomically) and return its path."""
        import json

        from headwater.train.checkpoint_management import atomic_write_bytes

        doc = {"format": constants.FORMAT_NAME, "version": constants.SAVED_MODEL_SCHEMA_VERSION,
               "meta_graphs": [mg.to_json_obj() for mg in self._meta_graphs]}
        path = os.path.join(self._export_dir, constants.SAVED_MODEL_FILENAME_JSON)
        atomic_write_bytes(path, json.dumps(doc, indent=1 if as_text else None))
        return path


Builder = SavedModelBuilder
