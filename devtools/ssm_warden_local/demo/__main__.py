import sys

from ssm_warden_local.demo import main

sys.exit(main())
