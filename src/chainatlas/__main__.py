from chainatlas.cli import main

main()
