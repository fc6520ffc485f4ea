from edgeemo.cli import main

main()
