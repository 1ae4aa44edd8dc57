"""``python -m bastion`` runs the command-line interface."""

from bastion.cli.app import main

if __name__ == "__main__":
    main()
