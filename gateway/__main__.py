from gateway.interfaces.cli.main import cli

cli()
