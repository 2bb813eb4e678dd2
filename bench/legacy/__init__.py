"""The detector as it was before issue 12 (regex normaliser, regex-only packs), frozen here so the
corpus bench can print its figures beside the current detector's in the same run. Not shipped:
nothing in the layer imports it."""
