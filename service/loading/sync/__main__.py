"""``python -m service.loading.sync``: the catalogue sync without the service's CLI."""

from service.loading.sync.cli import main

raise SystemExit(main())
