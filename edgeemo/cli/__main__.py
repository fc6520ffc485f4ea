"""python -m edgeemo.cli"""

from edgeemo.cli import main

main()
