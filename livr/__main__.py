import sys

from livr.cli import main

sys.exit(main())
