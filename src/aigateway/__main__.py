"""``python -m aigateway`` is the ``aigateway`` command."""

from aigateway.cli import main

main()
