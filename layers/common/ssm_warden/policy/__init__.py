"""Policy documents: the model, the YAML loader with line-accurate errors, and evaluation."""
