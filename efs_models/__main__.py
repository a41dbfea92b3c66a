"""``python -m efs_models``: the same as the ``efs-models`` command."""

import sys

from efs_models.cli import main

sys.exit(main())
