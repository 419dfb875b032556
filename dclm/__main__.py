from dclm.cli import main

raise SystemExit(main())
