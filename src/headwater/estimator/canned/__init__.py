"""Canned estimators: linear, DNN and wide-and-deep models."""
