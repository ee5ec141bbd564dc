import sys

from docr.testing._serve import main

sys.exit(main())
