"""File and collection names of the SavedModel layout."""

SAVED_MODEL_FILENAME_JSON = "saved_model.json"
SAVED_MODEL_SCHEMA_VERSION = 1
FORMAT_NAME = "headwater.SavedModel"
VARIABLES_DIRECTORY = "variables"
VARIABLES_FILENAME = "variables"
ASSETS_DIRECTORY = "assets"
MAIN_OP_KEY = "saved_model_main_op"
LEGACY_INIT_OP_KEY = "legacy_init_op"
