"""Mirrors tensorflow.examples: TF1 tutorials import their MNIST reader from here."""
