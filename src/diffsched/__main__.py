import sys

from diffsched.cli import main

sys.exit(main())
