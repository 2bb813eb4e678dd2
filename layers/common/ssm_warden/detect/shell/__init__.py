"""Reading POSIX shell: the tree-sitter parse, the de-obfuscating expansion, and the views rules see."""
