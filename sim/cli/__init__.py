"""The command line: parsing, one function per command, errors to exit code 2."""
