"""`python -m grader ...` is the `grader` command (for a student kit used without installing)."""

import sys

from grader.cli import main

sys.exit(main())
