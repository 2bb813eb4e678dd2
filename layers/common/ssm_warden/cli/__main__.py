import sys

from ssm_warden.cli import main

sys.exit(main())
