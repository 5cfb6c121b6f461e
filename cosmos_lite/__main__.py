import sys

from cosmos_lite.cli import main

sys.exit(main())
