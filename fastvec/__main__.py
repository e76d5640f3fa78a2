"""``python -m fastvec`` is the ``fastvec`` command."""
import sys

from fastvec.cli import main

sys.exit(main())
