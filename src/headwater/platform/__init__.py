"""Process-level utilities TF1 programs use: tf.logging, tf.app, tf.flags, tf.gfile."""
