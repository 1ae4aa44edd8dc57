"""``python -m bastion.cli`` runs the command line."""

from bastion.cli.app import main

if __name__ == "__main__":
    main()
