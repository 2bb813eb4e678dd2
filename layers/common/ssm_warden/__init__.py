"""ssm-warden: governance for AWS Systems Manager Session Manager.

All domain code lives here; Lambda handlers in ``functions/`` are thin wrappers around it.
Nothing in this package reads the environment or creates an AWS client at import time.
"""

__version__ = "0.1.0"
