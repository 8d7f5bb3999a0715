from promptyard.cli import main

main()
