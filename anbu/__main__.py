from anbu.cli import main

main()
