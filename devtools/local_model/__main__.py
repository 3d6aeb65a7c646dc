from devtools.local_model.cli import main

raise SystemExit(main())
