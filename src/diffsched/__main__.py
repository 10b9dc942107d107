import sys

from diffsched.interface.cli import main

sys.exit(main())
