"""Loading a SavedModel directory into a session (TF1's `tf.saved_model.loader`)."""

from __future__ import annotations

import errno
import json
import os

from headwater.framework.meta_graph import MetaGraphDef, import_meta_graph
from headwater.saved_model import constants

__all__ = ["load", "maybe_saved_model_directory"]


def maybe_saved_model_directory(export_dir):
    """True if `export_dir` holds a (complete) SavedModel."""
    return os.path.isfile(os.path.join(os.fspath(export_dir),
                                       constants.SAVED_MODEL_FILENAME_JSON))


def _read_saved_model(export_dir):
    path = os.path.join(export_dir, constants.SAVED_MODEL_FILENAME_JSON)
    if not os.path.isfile(path):
        raise OSError(errno.ENOENT, "SavedModel file does not exist at: %s" % path)
    with open(path, "rb") as f:
        data = f.read()
    try:
        doc = json.loads(data.decode("utf-8"))
        if doc.get("format") != constants.FORMAT_NAME:
            raise ValueError("format field missing")
        if doc.get("version", 0) > constants.SAVED_MODEL_SCHEMA_VERSION:
            raise ValueError("version %r is newer than this headwater supports"
                             % doc.get("version"))
        return [MetaGraphDef.from_json_obj(m) for m in doc["meta_graphs"]]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError) as e:
        raise IOError("Cannot parse SavedModel file %s: %s" % (path, e)) from None


def load(sess, tags, export_dir, import_scope=None, **saver_kwargs):
    """Load the meta graph tagged `tags` from `export_dir` into `sess` and restore variables.

    Args:
      sess: the Session to load into (its graph receives the imported ops).
      tags: the tag set of the meta graph to load (e.g. [tag_constants.SERVING]).
      export_dir: the SavedModel directory.
      import_scope: optional name scope for the imported ops.
    Returns:
      The `MetaGraphDef` loaded (`.signature_def["serving_default"].inputs["x"].name`).
    Raises:
      OSError: if `export_dir` holds no SavedModel.
      RuntimeError: if no meta graph has exactly these tags.
    """
    export_dir = os.fspath(export_dir)
    if isinstance(tags, str):
        tags = [tags]
    metas = _read_saved_model(export_dir)
    wanted = set(tags)
    found = None
    for mg in metas:
        if set(mg.meta_info_def.tags) == wanted:
            found = mg
            break
    if found is None:
        available = [mg.meta_info_def.tags for mg in metas]
        raise RuntimeError(
            "MetaGraphDef associated with tags %s could not be found in SavedModel. To "
            "inspect available tag-sets in the SavedModel, please use the SavedModel CLI: "
            "`saved_model_cli`\navailable_tags: %s"
            % (", ".join("'%s'" % t for t in tags), available))
    graph = sess.graph
    with graph.as_default():
        saver = import_meta_graph(found, import_scope=import_scope, **saver_kwargs)
        prefix = os.path.join(export_dir, constants.VARIABLES_DIRECTORY,
                              constants.VARIABLES_FILENAME)
        if saver is not None and os.path.isfile(prefix + ".index"):
            saver.restore(sess, prefix)
        scope = (import_scope.rstrip("/") + "/") if import_scope else ""
        for key in (constants.MAIN_OP_KEY, constants.LEGACY_INIT_OP_KEY):
            items = found.collection_def.get(key)
            if items:
                sess.run(graph.get_operation_by_name(scope + items[0]["op"]))
                break
    return found
