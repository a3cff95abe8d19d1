import sys

from autotagger.cli import main

sys.exit(main())
